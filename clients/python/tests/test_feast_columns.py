"""The guard reads Feast's online response from its proto (`accord.feast._columns`) instead of `to_dict`, which
spends most of its time in Feast's general value conversion: the values and event times must be exactly those
`to_dict(include_event_timestamps=True)` gives, for every kind of value a feature view can hold, missing ones too."""

from __future__ import annotations

import datetime
import pathlib

import pandas
import pytest
from feast import Entity, FeatureStore, FeatureView, Field, FileSource, ValueType
from feast.repo_config import RepoConfig
from feast.types import Array, Bool, Bytes, Float32, Float64, Int32, Int64, String, UnixTimestamp

from accord.feast import _columns

NOW = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> FeatureStore:
    folder: pathlib.Path = tmp_path_factory.mktemp("feast-kinds")
    frame = pandas.DataFrame({
        "user_id": ["k-1", "k-2", "k-3"],
        "event_timestamp": [NOW - datetime.timedelta(days=1), NOW - datetime.timedelta(hours=3), NOW - datetime.timedelta(days=9)],
        "an_int32": pandas.array([1, None, -7], dtype="Int32"),
        "an_int64": pandas.array([2**40, 5, None], dtype="Int64"),
        "a_float32": [1.5, None, -0.25],
        "a_float64": [72.46, 64.0, None],
        "a_string": ["Zoë \"quoted\"", None, ""],
        "a_bool": pandas.array([True, False, None], dtype="boolean"),
        "some_bytes": [b"\x00\xff", None, b"abc"],
        "a_time": [NOW - datetime.timedelta(days=400), None, NOW],
        "ints": [[1, 2, 3], None, []],
        "strings": [["a", "b"], ["c"], None],
    })
    frame.to_parquet(folder / "kinds.parquet")
    feast = FeatureStore(config=RepoConfig(
        project="accord_kinds", registry=str(folder / "registry.db"), provider="local",
        online_store={"type": "sqlite", "path": str(folder / "online.db")}, entity_key_serialization_version=3))
    user = Entity(name="user", join_keys=["user_id"], value_type=ValueType.STRING)
    schema = [Field(name="an_int32", dtype=Int32), Field(name="an_int64", dtype=Int64), Field(name="a_float32", dtype=Float32),
              Field(name="a_float64", dtype=Float64), Field(name="a_string", dtype=String), Field(name="a_bool", dtype=Bool),
              Field(name="some_bytes", dtype=Bytes), Field(name="a_time", dtype=UnixTimestamp),
              Field(name="ints", dtype=Array(Int64)), Field(name="strings", dtype=Array(String))]
    view = FeatureView(name="kinds", entities=[user], ttl=datetime.timedelta(days=400), schema=schema,
                       source=FileSource(path=str(folder / "kinds.parquet"), timestamp_field="event_timestamp"), online=True)
    feast.apply([user, view])
    feast.materialize(NOW - datetime.timedelta(days=30), NOW + datetime.timedelta(seconds=1))
    return feast


FEATURES = ["an_int32", "an_int64", "a_float32", "a_float64", "a_string", "a_bool", "some_bytes", "a_time", "ints", "strings"]


@pytest.mark.parametrize("full_feature_names", [False, True])
def test_columns_are_what_to_dict_gives(store: FeatureStore, full_feature_names: bool) -> None:
    response = store.get_online_features(
        features=[f"kinds:{name}" for name in FEATURES], entity_rows=[{"user_id": key} for key in ("k-1", "k-2", "k-3", "nobody")],
        full_feature_names=full_feature_names)
    expected = response.to_dict(include_event_timestamps=True)
    actual = _columns(response)
    assert set(actual) == set(expected)
    for key, values in expected.items():
        assert actual[key] == values, key
        assert [type(v) for v in actual[key]] == [type(v) for v in values], key
    # The fixture holds what makes the comparison mean something: present and missing values of each kind.
    column = "kinds__an_int64" if full_feature_names else "an_int64"
    assert expected[column][0] == 2**40 and expected[column][2] is None and expected[column][3] is None
    assert any(isinstance(v, datetime.datetime) for v in expected["kinds__a_time" if full_feature_names else "a_time"])


def test_a_response_without_a_proto_is_converted_by_feast() -> None:
    class Response:
        def to_dict(self, include_event_timestamps: bool = False) -> dict[str, list[object]]:
            return {"x": [1], "x__ts": [5]} if include_event_timestamps else {"x": [1]}

    assert _columns(Response()) == {"x": [1], "x__ts": [5]}
