"""The recsys workspace in Feast, guarded by Accord, end to end:

    ACCORD_URL=http://127.0.0.1:8181 ACCORD_TOKEN=... python examples/python/feast_recsys/run.py [--workspace DIR]

1. builds a Feast repository from `examples/recsys/workspace.json`: 300 people, 17 weekly values of each feature,
   a parquet offline store and a SQLite online store, each feature tagged with its data category;
2. checks the tags against the reference Catalog (`policies/catalog.yaml`);
3. records consent for about 70 % of the people (the workspace's rate), as a consent platform would;
4. serves guarded online reads: only permitted values, masked as the obligations say;
5. assembles a guarded training set (Feast's point-in-time join, each value judged by its own event time),
   trains a scikit-learn model on it and registers the model on the training set (`log_model`, an MLflow-style
   hook);
6. withdraws one included person's consent, and asks the lineage which models that person's data trained.

Prints a JSON summary; every number in it comes from Accord's answers.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import pathlib
import random
import subprocess
import sys
from typing import Any

import pandas
from feast import Entity, FeatureStore, FeatureView, Field, FileSource, ValueType
from feast.repo_config import RepoConfig
from feast.types import Int64
from sklearn.linear_model import LogisticRegression

from accord import AccordClient
from accord.feast import GuardedFeatureStore, check_catalog

REPOSITORY = pathlib.Path(__file__).resolve().parents[3]
# Each feature of the workspace with its data category, as the Catalog files it (Feast tags carry it).
CATEGORIES = {
    "clicks_7d": "user.behavior.clicks", "clicks_30d": "user.behavior.clicks", "views_30d": "user.behavior.views",
    "purchases_90d": "user.behavior.purchases", "age_bucket": "user.demographic.age", "gps_last": "user.location.precise",
    "heart_rate_avg": "user.health",
}
PURPOSE_ONLINE, PURPOSE_TRAINING = "personalization.recommendations", "model.training"


def build_repository(folder: pathlib.Path, workspace: dict[str, Any], now: datetime.datetime) -> tuple[FeatureStore, list[dict[str, Any]]]:
    rng = random.Random(workspace["seed"])
    people = [{"id": f"p-{i:03d}", "jurisdiction": workspace["jurisdictions"][i % len(workspace["jurisdictions"])],
               "age": 16 + (i * 7) % 50} for i in range(workspace["people"])]
    numeric = [name for name in workspace["features"] if name in CATEGORIES]
    rows = []
    for week in range(workspace["weeks"]):
        stamp = now - datetime.timedelta(weeks=workspace["weeks"] - 1 - week, hours=1)
        for person in people:
            row: dict[str, Any] = {"user_id": person["id"], "event_timestamp": stamp}
            for name in numeric:
                row[name] = rng.randint(0, 60)
            rows.append(row)
    frame = pandas.DataFrame(rows)
    folder.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(folder / "weekly.parquet")
    store = FeatureStore(config=RepoConfig(
        project="recsys", registry=str(folder / "registry.db"), provider="local",
        online_store={"type": "sqlite", "path": str(folder / "online.db")}, entity_key_serialization_version=3))
    user = Entity(name="user", join_keys=["user_id"], value_type=ValueType.STRING)
    view = FeatureView(
        name="weekly", entities=[user], ttl=datetime.timedelta(weeks=workspace["weeks"] + 1),
        schema=[Field(name=name, dtype=Int64, tags={"accord.category": CATEGORIES[name]}) for name in numeric],
        source=FileSource(path=str(folder / "weekly.parquet"), timestamp_field="event_timestamp"), online=True)
    store.apply([user, view])
    store.materialize(now - datetime.timedelta(weeks=workspace["weeks"] + 1), now)
    return store, people


def log_model(client: AccordClient, model: Any, name: str, version: str, manifest: dict[str, Any]) -> dict[str, Any]:
    """An MLflow-style hook: call it where the model is logged. It records in Accord's lineage that `model` was trained
    on the training set the manifest names, so a withdrawal or an erasure finds it."""
    answer: dict[str, Any] = client.register_model(name, version, manifest["id"])
    return answer


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workspace", default="feast-workspace")
    parser.add_argument("--db", default=os.environ.get("ACCORD_DB"), help="the server's database, for `accord lineage`")
    arguments = parser.parse_args(argv)
    client = AccordClient(os.environ.get("ACCORD_URL", "http://127.0.0.1:8181"), token=os.environ.get("ACCORD_TOKEN"))
    workspace = json.loads((REPOSITORY / "examples" / "recsys" / "workspace.json").read_text())
    now = datetime.datetime.now(datetime.timezone.utc).replace(minute=0, second=0, microsecond=0)
    store, people = build_repository(pathlib.Path(arguments.workspace), workspace, now)

    import yaml

    catalog = {f["name"]: f["category"] for f in yaml.safe_load((REPOSITORY / "policies" / "catalog.yaml").read_text())["features"]}
    problems = check_catalog(store, catalog)

    rng = random.Random(workspace["seed"] + 1)
    consenting = [p for p in people if rng.random() < workspace["consent_rates"]["personalization"]]
    for person in consenting:
        client.grant(person["id"], "personalization", version=3)

    guard = GuardedFeatureStore(store, client, actor="recsys-online")
    online = [f"weekly:{name}" for name in workspace["online_features"]]
    sample = people[:20]
    read = guard.get_online_features(online, [{"user_id": p["id"]} for p in sample], purpose=PURPOSE_ONLINE,
                                     subjects=sample, processing_region="EU")
    statuses = {column: {status: values.count(status) for status in set(values)} for column, values in read.statuses.items()}

    # Labels from the whole history, a week each: values are joined as of the label, and judged by their own age now
    # (clicks and views are kept 90 days; the oldest weeks are past it).
    labels = pandas.DataFrame({"user_id": [p["id"] for p in people],
                               "event_timestamp": [now - datetime.timedelta(weeks=i % workspace["weeks"]) for i in range(len(people))]})
    training_features = [f"weekly:{name}" for name in workspace["training_features"]]
    training = guard.get_historical_features(labels, training_features, purpose=PURPOSE_TRAINING, subjects=people,
                                             context={"processing_region": "EU"})
    columns = [reference.split(":")[1] for reference in training_features]
    frame = training.to_df()
    frame[columns] = frame[columns].astype("float64").fillna(0.0)  # a value left out counts as no activity
    target = (frame[columns].sum(axis=1) > frame[columns].sum(axis=1).median()).astype(int)
    model = LogisticRegression(max_iter=200).fit(frame[columns].astype(float), target)
    registered = log_model(client, model, "recsys-ctr", "1", training.manifest)

    included = frame["user_id"].iloc[0]
    client.withdraw(included, "personalization")
    lineage = ""
    if arguments.db:
        binary = os.environ.get("ACCORD_BIN") or str(REPOSITORY / ".build" / "debug" / "accord")
        lineage = subprocess.run([binary, "lineage", "--subject", included, "--db", arguments.db],
                                 capture_output=True, text=True, check=True).stdout
    summary = {
        "people": len(people), "consenting": len(consenting), "catalog_problems": problems, "online_statuses": statuses,
        "training_set": training.manifest["id"], "rows_included": training.manifest["rows_included"],
        "rows_excluded": training.manifest["rows_excluded"], "training_rows": len(frame),
        "model": f"{registered['model']}@{registered['version']}", "model_accuracy": round(float(model.score(frame[columns].astype(float), target)), 3),
        "withdrawn": included, "lineage_names_model": "recsys-ctr@1" in lineage,
    }
    print(json.dumps(summary, indent=2))
    return summary


if __name__ == "__main__":
    main(sys.argv[1:])
