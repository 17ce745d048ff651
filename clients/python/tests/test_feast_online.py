"""The Feast guard against a real Feast repository (parquet offline store, SQLite online store, materialised) and
the real server: consent, explicit consent for a sensitive feature, retention by each value's own event time,
masks applied, unknown subjects, integer entity keys, one Feast call and one decision round trip per read."""

from __future__ import annotations

import datetime
import os
import pathlib
import subprocess
from typing import Any

import pandas
import pytest
from feast import Entity, FeatureStore, FeatureView, Field, FileSource, ValueType
from feast.repo_config import RepoConfig
from feast.types import Float64, Int64

from accord import AccordClient, AccordError, AccordUnavailable
from accord.feast import DENIED, NOT_FOUND, PRESENT, GuardedFeatureStore, catalog_from_feast, check_catalog

REPOSITORY = pathlib.Path(__file__).resolve().parents[3]

NOW = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


class CountingStore:
    """A FeatureStore that counts its online reads."""

    def __init__(self, store: FeatureStore) -> None:
        self.store, self.reads = store, 0

    def get_online_features(self, **kwargs: Any) -> Any:
        self.reads += 1
        return self.store.get_online_features(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> CountingStore:
    folder: pathlib.Path = tmp_path_factory.mktemp("feast")
    # Recent values (a day old) and old ones (100 days old: past the 90-day limit on clicks).
    recent = pandas.DataFrame({
        "user_id": ["fe-1", "fe-2", "fe-3"], "event_timestamp": [NOW - datetime.timedelta(days=1)] * 3,
        "clicks_7d": [12, 40, 3], "heart_rate_avg": [72.46, 64.0, 80.5],
    })
    old = pandas.DataFrame({"user_id": ["fe-1", "fe-2", "fe-3"], "event_timestamp": [NOW - datetime.timedelta(days=100)] * 3,
                            "clicks_30d": [120, 400, 30]})
    numbered = pandas.DataFrame({"account": [7, 8], "event_timestamp": [NOW - datetime.timedelta(days=1)] * 2, "views_30d": [5, 6]})
    for name, frame in (("recent", recent), ("old", old), ("numbered", numbered)):
        frame.to_parquet(folder / f"{name}.parquet")
    config = RepoConfig(
        project="accord_test", registry=str(folder / "registry.db"), provider="local",
        online_store={"type": "sqlite", "path": str(folder / "online.db")}, entity_key_serialization_version=3)
    feast = FeatureStore(config=config)
    user = Entity(name="user", join_keys=["user_id"], value_type=ValueType.STRING)
    account = Entity(name="account", join_keys=["account"], value_type=ValueType.INT64)

    def view(name: str, entity: Entity, fields: list[Field], tags: dict[str, str] | None = None) -> FeatureView:
        source = FileSource(path=str(folder / f"{name}.parquet"), timestamp_field="event_timestamp")
        return FeatureView(
            name=name, entities=[entity], ttl=datetime.timedelta(days=400), schema=fields, source=source, online=True, tags=tags or {})

    clicks = {"accord.category": "user.behavior.clicks", "accord.region": "EU"}
    feast.apply([
        user, account,
        view("recent", user, [Field(name="clicks_7d", dtype=Int64, tags=clicks),
                              Field(name="heart_rate_avg", dtype=Float64, tags={"accord.category": "user.health"})]),
        view("old", user, [Field(name="clicks_30d", dtype=Int64)], tags=clicks),
        view("numbered", account, [Field(name="views_30d", dtype=Int64)]),
    ])
    feast.materialize(NOW - datetime.timedelta(days=200), NOW)
    return CountingStore(feast)


PURPOSE = "personalization.recommendations"
EU = {"age": 34, "jurisdiction": "EU"}


def test_consent_retention_masks_and_one_round_trip(store: CountingStore, client: AccordClient) -> None:
    guard = GuardedFeatureStore(store, client, actor="recsys-online")
    features = ["recent:clicks_7d", "recent:heart_rate_avg", "old:clicks_30d"]
    rows = [{"user_id": "fe-1"}, {"user_id": "fe-2"}, {"user_id": "nobody"}]
    # Without consent nothing is served.
    before = (store.reads, client.calls)
    denied = guard.get_online_features(features, rows, purpose=PURPOSE, subjects=[EU] * 3, processing_region="EU")
    assert (store.reads, client.calls) == (before[0] + 1, before[1] + 1), "one Feast read and one decision round trip"
    assert denied.statuses["clicks_7d"] == [DENIED] * 3
    assert all("consent.missing" in codes for codes in denied.reasons["clicks_7d"])
    assert denied.to_dict()["clicks_7d"] == [None, None, None]

    client.grant("fe-1", "personalization", version=3)
    client.grant("nobody", "personalization", version=3)
    response = guard.get_online_features(features, rows, purpose=PURPOSE, subjects=[EU] * 3, processing_region="EU")
    values = response.to_dict()
    assert values["user_id"] == ["fe-1", "fe-2", "nobody"]
    assert values["clicks_7d"] == [12, None, None]
    assert response.statuses["clicks_7d"] == [PRESENT, DENIED, NOT_FOUND]
    # The sensitive feature needs explicit consent, whatever the personalisation consent says.
    assert response.statuses["heart_rate_avg"][0] == DENIED
    assert "consent.explicit_required" in response.reasons["heart_rate_avg"][0]
    # The same row's old value is judged by its own event time (100 days), not the request's or the freshest.
    assert response.statuses["clicks_30d"][0] == DENIED
    assert "retention.expired" in response.reasons["clicks_30d"][0]
    assert response.delete_by["clicks_7d"][0] is not None, "the deadline a retention limit sets is surfaced"

    client.grant("fe-1", "health_insights", version=1)
    masked = guard.get_online_features(
        ["recent:heart_rate_avg"], [{"user_id": "fe-1"}], purpose=PURPOSE, subjects=[EU], processing_region="EU")
    assert masked.statuses["heart_rate_avg"] == [PRESENT], masked.reasons
    assert masked.to_dict()["heart_rate_avg"] == [72.0], "mask: truncate applied (72.46 → 72.0), not the raw value"
    assert masked.obligations["heart_rate_avg"] == [{"mask": "truncate"}], "the obligations are surfaced with the value"


def test_full_feature_names_and_integer_keys(store: CountingStore, client: AccordClient) -> None:
    client.grant("7", "personalization", version=3)
    guard = GuardedFeatureStore(store, client, actor="recsys-online", entity_key="account")
    response = guard.get_online_features(
        ["numbered:views_30d"], [{"account": 7}, {"account": 8}], full_feature_names=True, purpose=PURPOSE, subjects=[EU, EU],
        processing_region="EU")
    values = response.to_dict(include_event_timestamps=True)
    assert values["numbered__views_30d"] == [5, None]
    assert response.statuses["numbered__views_30d"] == [PRESENT, DENIED]
    assert values["numbered__views_30d__ts"][0] > 0


def test_no_answer_serves_nothing(store: CountingStore) -> None:
    unreachable = AccordClient("http://127.0.0.1:9", timeout=0.5)
    guard = GuardedFeatureStore(store, unreachable, actor="recsys-online")
    with pytest.raises(AccordUnavailable):
        guard.get_online_features(["recent:clicks_7d"], [{"user_id": "fe-1"}], purpose=PURPOSE, subjects=[EU])


def test_feature_services_and_bare_names_are_refused(store: CountingStore, client: AccordClient) -> None:
    guard = GuardedFeatureStore(store, client, actor="recsys-online")
    with pytest.raises(TypeError):
        guard.get_online_features(["clicks_7d"], [{"user_id": "fe-1"}], purpose=PURPOSE)


def test_training_sets_judge_each_value_by_its_own_event_time_and_record_lineage(
    store: CountingStore, client: AccordClient, server: Any) -> None:
    for person in ("fe-1", "fe-3"):
        client.grant(person, "personalization", version=3)
    guard = GuardedFeatureStore(store, client, actor="trainer")
    labels = pandas.DataFrame({"user_id": ["fe-1", "fe-2", "fe-3"], "event_timestamp": [NOW] * 3, "label": [1, 0, 1]})
    result = guard.get_historical_features(
        labels, ["recent:clicks_7d", "old:clicks_30d"], purpose="model.training",
        subjects=[{"id": s, "age": 34, "jurisdiction": "EU"} for s in ("fe-1", "fe-2", "fe-3")],
        context={"processing_region": "EU"})
    frame = result.to_df()
    # fe-2 never consented: the row is left out. The 100-day-old clicks_30d values are past the 90-day limit, judged
    # by their own event time although the label is from today.
    assert sorted(frame["user_id"]) == ["fe-1", "fe-3"]
    assert list(frame.sort_values("user_id")["clicks_7d"]) == [12, 3]
    assert frame["clicks_30d"].isna().all()
    assert "label" in frame.columns
    manifest = result.manifest
    # By the first reason each value is refused for: fe-2's old value is past retention before it lacks consent.
    assert manifest["rows_excluded"] == {"consent.missing": 1, "retention.expired": 3}
    assert manifest["subjects_included"] == 2 and manifest["rows_included"] == 2
    # A model registered on it; lineage names it for each person included, and not for the one left out.
    client.register_model("ctr-model", "1", manifest["id"])
    lineage = subprocess.run(
        [os.environ.get("ACCORD_BIN") or str(REPOSITORY / ".build" / "debug" / "accord"), "lineage", "--subject", "fe-1",
         "--db", str(server.db)], capture_output=True, text=True, check=True).stdout
    assert manifest["id"] in lineage and "ctr-model@1" in lineage
    absent = subprocess.run(
        [os.environ.get("ACCORD_BIN") or str(REPOSITORY / ".build" / "debug" / "accord"), "lineage", "--subject", "fe-2",
         "--db", str(server.db)], capture_output=True, text=True, check=True).stdout
    assert "ctr-model" not in absent
    with pytest.raises(AccordError) as unknown:
        client.register_model("ctr-model", "2", "no-such-set")
    assert unknown.value.status == 400


def test_the_catalog_comes_from_feast_tags_and_untagged_features_are_reported(store: CountingStore, tmp_path: pathlib.Path) -> None:
    generated = catalog_from_feast(store.store)
    assert generated.features == {"clicks_7d": ("user.behavior.clicks", "EU"), "clicks_30d": ("user.behavior.clicks", "EU"),
                                  "heart_rate_avg": ("user.health", None)}
    assert generated.uncategorised == ["numbered:views_30d"]
    # The generated Catalog is valid beside the reference policies' other documents.
    folder = tmp_path / "policies"
    folder.mkdir()
    for document in (REPOSITORY / "policies").glob("*.yaml"):
        if document.name != "catalog.yaml":
            (folder / document.name).write_text(document.read_text())
    (folder / "catalog.yaml").write_text(generated.yaml)
    validate = subprocess.run([os.environ.get("ACCORD_BIN") or str(REPOSITORY / ".build" / "debug" / "accord"), "validate", str(folder)],
                              capture_output=True, text=True)
    assert validate.returncode == 0, validate.stdout + validate.stderr
    problems = check_catalog(store.store, {"clicks_7d": "user.behavior.clicks", "heart_rate_avg": "user.behavior.views"})
    assert "numbered:views_30d: no accord.category tag" in problems
    assert "clicks_30d: served by Feast, not in the Catalog" in problems
    assert "heart_rate_avg: Feast tags it user.health, the Catalog says user.behavior.views" in problems


def test_the_catalog_command_generates_and_checks(tmp_path: pathlib.Path) -> None:
    import sys

    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "feature_store.yaml").write_text(
        "project: cli\nregistry: registry.db\nprovider: local\nonline_store: {type: sqlite, path: online.db}\n"
        "entity_key_serialization_version: 3\n")
    (repo / "features.py").write_text(
        "from datetime import timedelta\nfrom feast import Entity, FeatureView, Field, FileSource, ValueType\nfrom feast.types import Int64\n"
        "user = Entity(name='user', join_keys=['user_id'], value_type=ValueType.STRING)\n"
        "stats = FeatureView(name='stats', entities=[user], ttl=timedelta(days=30), schema=[Field(name='views_30d', dtype=Int64)],"
        " source=FileSource(path='stats.parquet', timestamp_field='event_timestamp'), tags={'accord.category': 'user.behavior.views'})\n")
    feast_cli = pathlib.Path(sys.executable).with_name("feast")
    applied = subprocess.run([str(feast_cli), "--chdir", str(repo), "apply"], capture_output=True, text=True)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    generated = subprocess.run([sys.executable, "-m", "accord.feast", "catalog", str(repo)], capture_output=True, text=True)
    assert generated.returncode == 0, generated.stderr
    assert "{ name: views_30d, category: user.behavior.views, entity: user }" in generated.stdout
    (tmp_path / "catalog.yaml").write_text(
        "apiVersion: accord/v1\nkind: Catalog\nfeatures:\n  - { name: views_30d, category: user.behavior.clicks }\n")
    checked = subprocess.run([sys.executable, "-m", "accord.feast", "catalog", str(repo), "--check", str(tmp_path / "catalog.yaml")],
                             capture_output=True, text=True)
    assert checked.returncode == 1
    assert "views_30d: Feast tags it user.behavior.views, the Catalog says user.behavior.clicks" in checked.stderr
