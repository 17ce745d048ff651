"""Latency of a guarded Feast online read against the bare Feast read, in one run:
`python benchmarks/online_latency.py [ACCORD_BIN]` (scripts/python-tests.sh --bench runs it). It builds a Feast
repository (parquet offline store, SQLite online store, 1,000 people, 8 features), starts `accord serve` on
loopback at durability `normal`, grants consent, and times `get_online_features` for 1 and for 10 entities, bare
and through the guard (each guarded call: one Feast read, one batch decision recorded before it returns)."""

from __future__ import annotations

import datetime
import pathlib
import statistics
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "tests"))

import pandas  # noqa: E402
from conftest import Server  # noqa: E402
from feast import Entity, FeatureStore, FeatureView, Field, FileSource, ValueType  # noqa: E402
from feast.repo_config import RepoConfig  # noqa: E402
from feast.types import Int64  # noqa: E402

from accord import AccordClient  # noqa: E402
from accord.feast import GuardedFeatureStore  # noqa: E402

FEATURES = ["clicks_7d", "clicks_30d", "views_30d", "purchases_90d", "age_bucket", "city", "interests_topk", "age_years"]


def main() -> None:
    if len(sys.argv) > 1:
        import os

        os.environ["ACCORD_BIN"] = sys.argv[1]
    folder = pathlib.Path(tempfile.mkdtemp(prefix="accord-bench-"))
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    people = [f"b-{i}" for i in range(1_000)]
    frame = pandas.DataFrame({"user_id": people, "event_timestamp": [now - datetime.timedelta(days=1)] * len(people)})
    for i, name in enumerate(FEATURES):
        frame[name] = [(j * 7 + i) % 100 for j in range(len(people))]
    frame.to_parquet(folder / "users.parquet")
    store = FeatureStore(config=RepoConfig(
        project="accord_bench", registry=str(folder / "registry.db"), provider="local",
        online_store={"type": "sqlite", "path": str(folder / "online.db")}, entity_key_serialization_version=3))
    user = Entity(name="user", join_keys=["user_id"], value_type=ValueType.STRING)
    view = FeatureView(name="users", entities=[user], ttl=datetime.timedelta(days=400),
                       schema=[Field(name=name, dtype=Int64) for name in FEATURES],
                       source=FileSource(path=str(folder / "users.parquet"), timestamp_field="event_timestamp"), online=True)
    store.apply([user, view])
    store.materialize(now - datetime.timedelta(days=10), now)
    server = Server(folder)
    try:
        client = AccordClient(server.url, token=server.token)
        for person in people[:100]:
            client.grant(person, "personalization", version=3)
        guard = GuardedFeatureStore(store, client, actor="bench")
        references = [f"users:{name}" for name in FEATURES]
        print(f"Feast {__import__('feast').__version__}, {len(FEATURES)} features per read, accord serve at durability normal")
        for entities in (1, 10):
            rows = [{"user_id": people[i % 100]} for i in range(entities)]
            subjects = [{"age": 34, "jurisdiction": "EU"}] * entities
            bare, converted, guarded = [], [], []
            for round_ in range(1_100):
                start = time.perf_counter()
                store.get_online_features(features=references, entity_rows=rows)
                middle = time.perf_counter()
                guard.get_online_features(references, rows, purpose="personalization.recommendations", subjects=subjects,
                                          processing_region="EU")
                end = time.perf_counter()
                store.get_online_features(features=references, entity_rows=rows).to_dict()
                after = time.perf_counter()
                if round_ >= 100:  # warmed up
                    bare.append((middle - start) * 1000)
                    guarded.append((end - middle) * 1000)
                    converted.append((after - end) * 1000)
            # The guarded read returns Python values (masked); Feast's bare read returns its response, which a caller
            # still converts (`to_dict`, `to_df`) to use a value: both baselines are shown, the bare call first.
            for name, times in (("bare Feast read", bare), ("bare + to_dict()", converted), ("guarded read", guarded)):
                times.sort()
                print(f"  {entities:2d} entities, {name:16s}: p50 {statistics.median(times):.3f} ms, p99 {times[int(len(times) * 0.99)]:.3f} ms")
            for name, baseline in (("the bare read", bare), ("bare + to_dict()", converted)):
                print(f"  {entities:2d} entities, the guard adds over {name:16s}: p50 "
                      f"{statistics.median(guarded) - statistics.median(baseline):.3f} ms, "
                      f"p99 {guarded[int(len(guarded) * 0.99)] - baseline[int(len(baseline) * 0.99)]:.3f} ms")
        # A training set: 1,000 people's 8 features at a label time each (8,000 values), through the guard (Feast's
        # join, each value's own event time, one streamed decision of every row, recorded with its lineage).
        labels = pandas.DataFrame({"user_id": people, "event_timestamp": [now] * len(people)})
        subjects = [{"id": person, "age": 34, "jurisdiction": "EU"} for person in people]
        for round_ in range(3):
            start = time.perf_counter()
            bare_set = store.get_historical_features(entity_df=labels, features=references).to_df()
            middle = time.perf_counter()
            guarded_set = guard.get_historical_features(labels, references, purpose="model.training", subjects=subjects,
                                                        context={"processing_region": "EU"})
            end = time.perf_counter()
            values = len(bare_set) * len(FEATURES)
            print(f"  training set of {values:,} values: bare Feast join {(middle - start) * 1000:.0f} ms, guarded "
                  f"{(end - middle) * 1000:.0f} ms ({values / (end - middle):,.0f} values/s guarded; "
                  f"{guarded_set.manifest['rows_included']:,} permitted)")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
