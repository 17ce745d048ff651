"""A Feast feature store behind Accord: online reads that return only what the policies permit, masked as their
obligations say, each value judged by its own event time.

    guard = GuardedFeatureStore(FeatureStore("feature_repo"), AccordClient(url, token=token), actor="recsys")
    response = guard.get_online_features(["user_stats:clicks_7d"], [{"user_id": "u-1"}],
                                         purpose="personalization.recommendations")

Each call makes **one** Feast read (with event timestamps) and **one** batch decision, whatever the number of
entities; the decisions are recorded before anything is returned, and with no answer nothing is (fail closed).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from . import obligations
from .client import AccordClient
from .errors import AccordUnavailable

PRESENT, NOT_FOUND, DENIED = "PRESENT", "NOT_FOUND", "DENIED"


def rfc3339(seconds: float) -> str:
    return datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


#: Feast value kinds whose Python value is the proto field itself (what `feast_value_type_to_python_type` returns
#: for them): read directly, they cost a fraction of Feast's general conversion, which is most of `to_dict`'s time.
_PLAIN_KINDS = frozenset({"int32_val", "int64_val", "float_val", "double_val", "bool_val", "bytes_val", "string_val"})


def _columns(response: Any) -> dict[str, list[Any]]:
    """`response.to_dict(include_event_timestamps=True)`, the same values (`test_feast.py` compares them), read from
    the response's proto: plain scalars directly, every other kind through Feast's own conversion. A response without
    the proto or feature types this reads (another Feast version) is converted by `to_dict` itself."""
    proto = getattr(response, "proto", None)
    types = getattr(response, "_feature_types", None)
    if proto is None or not isinstance(types, dict):
        result: dict[str, list[Any]] = response.to_dict(include_event_timestamps=True)
        return result
    from feast.type_map import feast_value_type_to_python_type
    from feast.value_type import ValueType

    uuids = (ValueType.UUID, ValueType.TIME_UUID)
    columns: dict[str, list[Any]] = {}
    for name, vector in zip(proto.metadata.feature_names.val, proto.results):
        kind_of = types.get(name)
        values: list[Any] = []
        for value in vector.values:
            kind = value.WhichOneof("val")
            if kind is None:
                values.append(None)
            elif kind in _PLAIN_KINDS and not (kind == "string_val" and kind_of in uuids):
                values.append(getattr(value, kind))
            else:
                values.append(feast_value_type_to_python_type(value, kind_of))
        columns[name] = values
        columns[name + "__ts"] = [stamp.seconds for stamp in vector.event_timestamps]
    return columns


@dataclass
class GuardedOnlineResponse:
    """What `get_online_features` returns: Feast's columns with denied values as None and permitted ones masked,
    and for each feature and row its status, reasons and deletion deadline."""

    values: dict[str, list[Any]]
    event_timestamps: dict[str, list[int]]
    statuses: dict[str, list[str]]
    reasons: dict[str, list[list[str]]]
    delete_by: dict[str, list[str | None]]
    decision_ids: list[str | None]
    entity_columns: dict[str, list[Any]] = field(default_factory=dict)
    #: Each permitted value's obligations as the decision gave them (`mask`, `drop`, `min_cohort`, `delete_after`, …):
    #: what is applied here is applied already; the rest (a minimum cohort for aggregates) binds the caller.
    obligations: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def to_dict(self, include_event_timestamps: bool = False) -> dict[str, list[Any]]:
        """As Feast's `OnlineResponse.to_dict`: the entity keys and each feature's (guarded) values."""
        result: dict[str, list[Any]] = dict(self.entity_columns)
        for name, column in self.values.items():
            result[name] = list(column)
            if include_event_timestamps:
                result[name + "__ts"] = list(self.event_timestamps[name])
        return result

    def to_df(self, include_event_timestamps: bool = False) -> Any:
        import pandas

        return pandas.DataFrame(self.to_dict(include_event_timestamps))


class GuardedFeatureStore:
    """Feast's `get_online_features`, guarded.

    - `store`: a `feast.FeatureStore` (anything with Feast's `get_online_features(features=, entity_rows=,
      full_feature_names=)` returning an `OnlineResponse`).
    - `feature_map`: Feast reference (`view:feature`) → catalog feature; by default the part after the colon.
    - `entity_key`: the join key naming the person (`user_id`); Feast's integer keys are sent as text.
    """

    def __init__(
        self, store: Any, client: AccordClient, *, actor: str, entity_key: str = "user_id",
        feature_map: Mapping[str, str] | None = None,
    ) -> None:
        self.store = store
        self.client = client
        self.actor = actor
        self.entity_key = entity_key
        self.feature_map = dict(feature_map or {})

    def catalog_name(self, reference: str) -> str:
        return self.feature_map.get(reference, reference.split(":", 1)[-1])

    @staticmethod
    def column(reference: str, full_feature_names: bool) -> str:
        """The column Feast writes a reference under: `feature`, or `view__feature` with full feature names."""
        view, _, name = reference.partition(":")
        return f"{view}__{name}" if full_feature_names and name else (name or view)

    def get_historical_features(
        self, entity_df: Any, features: Sequence[str], full_feature_names: bool = False, *, purpose: str,
        subjects: Sequence[Mapping[str, Any]] = (), context: Mapping[str, Any] | None = None, training_set_id: str | None = None,
    ) -> GuardedTrainingSet:
        """Feast's `get_historical_features`, guarded: Feast's point-in-time join for the values, each value's own
        event time from the same join over its view's source (never the label's time), every value decided as a
        `train` use, and the set recorded with its lineage before the frame is returned (one streamed round trip).
        Denied values are None; rows none of whose values may be used are left out."""
        if isinstance(features, str) or not all(isinstance(f, str) and ":" in f for f in features):
            raise TypeError("features must be a list of 'view:feature' references (feature services are not supported)")
        return _historical(self, entity_df, features, full_feature_names, purpose=purpose, subjects=subjects, context=context,
                           training_set_id=training_set_id)

    def get_online_features(
        self,
        features: Sequence[str],
        entity_rows: Sequence[Mapping[str, Any]],
        full_feature_names: bool = False,
        *,
        purpose: str,
        action: str = "read_online",
        subjects: Sequence[Mapping[str, Any]] | None = None,
        processing_region: str | None = None,
        now: float | None = None,
    ) -> GuardedOnlineResponse:
        """`subjects` (one per entity row, optional) adds what Accord reads about each person that Feast does not
        hold — `age`, `jurisdiction`. Consent comes from the server's consent store."""
        if isinstance(features, str) or not all(isinstance(f, str) and ":" in f for f in features):
            raise TypeError("features must be a list of 'view:feature' references (feature services are not supported)")
        references = list(features)
        response = self.store.get_online_features(features=references, entity_rows=list(entity_rows), full_feature_names=full_feature_names)
        data = _columns(response)
        instant = datetime.datetime.now(datetime.timezone.utc).timestamp() if now is None else now
        columns = [self.column(reference, full_feature_names) for reference in references]
        names = [self.catalog_name(reference) for reference in references]
        absent = [0] * len(entity_rows)
        value_columns = [data[column] for column in columns]
        stamp_columns = [data.get(column + "__ts", absent) for column in columns]
        # The values of a row mostly share one event time (their view's): each distinct time is written once.
        written: dict[float, str] = {}
        now_text = rfc3339(instant)
        context = {"processing_region": processing_region} if processing_region else {}
        requests = []
        for row_index, row in enumerate(entity_rows):
            if self.entity_key not in row:
                raise KeyError(f"entity row {row_index} has no {self.entity_key!r}")
            subject: dict[str, Any] = {"id": str(row[self.entity_key])}
            if subjects is not None:
                for key in ("age", "jurisdiction"):
                    if key in subjects[row_index]:
                        subject[key] = subjects[row_index][key]
            resources = []
            for name, column_values, column_stamps in zip(names, value_columns, stamp_columns):
                stamp = column_stamps[row_index]
                # Each value is judged by its own event time; a missing value (nothing to serve) as of now.
                if column_values[row_index] is not None and stamp:
                    collected = written.get(stamp)
                    if collected is None:
                        collected = written[stamp] = rfc3339(stamp)
                else:
                    collected = now_text
                resources.append({"feature": name, "collected_at": collected})
            request: dict[str, Any] = {
                "actor": {"id": self.actor}, "subject": subject, "purpose": purpose, "action": action, "resources": resources,
                "context": context,
            }
            requests.append(request)
        # One round trip for every entity; no answer, nothing served.
        decisions = self.client.decide_batch(requests) if requests else []
        values: dict[str, list[Any]] = {column: [] for column in columns}
        statuses: dict[str, list[str]] = {column: [] for column in columns}
        reasons: dict[str, list[list[str]]] = {column: [] for column in columns}
        deadlines: dict[str, list[str | None]] = {column: [] for column in columns}
        duties: dict[str, list[dict[str, Any]]] = {column: [] for column in columns}
        stamps: dict[str, list[int]] = {column: list(data.get(column + "__ts", absent)) for column in columns}
        for row_index, decision in enumerate(decisions):
            decided = decision.get("resources", [])
            if len(decided) != len(columns):
                raise AccordUnavailable(0, "answer.incomplete", "a decision without one resource per feature")
            for column, feast_values, resource in zip(columns, value_columns, decided):
                value = feast_values[row_index]
                reasons[column].append([reason.get("code", "") for reason in resource.get("reasons", [])])
                deadlines[column].append(resource.get("delete_by"))
                duty = resource.get("obligations")
                if resource.get("effect") != "permit":
                    duties[column].append({})
                    values[column].append(None)
                    statuses[column].append(DENIED)
                    continue
                duties[column].append(dict(duty) if duty else {})
                if value is None:
                    values[column].append(None)
                    statuses[column].append(NOT_FOUND)
                else:
                    masked = obligations.apply(value, duty) if duty else value
                    values[column].append(masked)
                    statuses[column].append(PRESENT if masked is not None else DENIED)
        entity_columns = {key: list(data[key]) for key in data if key not in columns and not key.endswith("__ts")}
        return GuardedOnlineResponse(
            values=values, event_timestamps=stamps, statuses=statuses, reasons=reasons, delete_by=deadlines,
            decision_ids=[decision.get("decision_id") for decision in decisions], entity_columns=entity_columns,
            obligations=duties,
        )


@dataclass
class GuardedTrainingSet:
    """What `get_historical_features` returns: the permitted rows, masked; the manifest Accord recorded (its `id` is
    what a model is registered on); and each cell's answer (`permit`, `permit:<mask>`, `deny:<reason>`)."""

    frame: Any
    manifest: dict[str, Any]
    answers: dict[str, list[str | None]]

    def to_df(self) -> Any:
        return self.frame


def _utc(series: Any) -> Any:
    import pandas

    converted = pandas.to_datetime(series)
    return converted.dt.tz_localize("UTC") if converted.dt.tz is None else converted.dt.tz_convert("UTC")


def _event_times(store: Any, reference: str, entity_df: Any, row_column: str) -> Any:
    """Each entity row's value of `reference` with its own event time, by the same point-in-time join Feast makes
    (latest source row at or before the row's `event_timestamp`, within the view's ttl) over the view's source,
    keeping the source's timestamp field."""
    import pandas

    view_name, _, feature = reference.partition(":")
    view = store.get_feature_view(view_name)
    source = view.batch_source
    path = getattr(source, "path", None)
    if not path:
        raise TypeError(f"feature view {view_name!r}: only file sources can be guarded (each value's event time is read from them)")
    timestamp = source.timestamp_field
    keys = [column.name for column in view.entity_columns]
    # The source's own timestamp under a name of its own: a source whose timestamp field is called
    # `event_timestamp`, like the label's, must not hand back the label's time.
    table = pandas.read_parquet(path, columns=keys + [timestamp, feature]).rename(columns={timestamp: "__time", feature: "__value"})
    table["__time"] = _utc(table["__time"])
    left = entity_df[[row_column, "event_timestamp"] + keys].copy()
    left["event_timestamp"] = _utc(left["event_timestamp"])
    tolerance = view.ttl if view.ttl and view.ttl.total_seconds() > 0 else None
    joined = pandas.merge_asof(
        left.sort_values("event_timestamp"), table.sort_values("__time"), left_on="event_timestamp", right_on="__time", by=keys,
        direction="backward", tolerance=tolerance)
    return joined.set_index(row_column)[["__time", "__value"]]


def _same(a: Any, b: Any) -> bool:
    import pandas

    if pandas.isna(a) and pandas.isna(b):
        return True
    if pandas.isna(a) or pandas.isna(b):
        return False
    try:
        return bool(a == b) or abs(float(a) - float(b)) <= 1e-9 * max(1.0, abs(float(a)))
    except (TypeError, ValueError):
        return False


def _historical(
    guard: GuardedFeatureStore, entity_df: Any, features: Sequence[str], full_feature_names: bool, *, purpose: str,
    subjects: Sequence[Mapping[str, Any]], context: Mapping[str, Any] | None, training_set_id: str | None,
) -> GuardedTrainingSet:
    import pandas

    if "event_timestamp" not in entity_df.columns or guard.entity_key not in entity_df.columns:
        raise KeyError(f"entity_df needs {guard.entity_key!r} and 'event_timestamp' columns")
    row_column = "__accord_row"
    labelled = entity_df.copy()
    labelled[row_column] = range(len(labelled))
    frame = guard.store.get_historical_features(
        entity_df=labelled, features=list(features), full_feature_names=full_feature_names).to_df()
    frame = frame.sort_values(row_column).set_index(row_column, drop=False)
    rows: list[tuple[str, str, str]] = []
    cells: list[tuple[int, str]] = []
    for reference in features:
        column = guard.column(reference, full_feature_names)
        timed = _event_times(guard.store, reference, labelled, row_column)
        for row, value in frame[column].items():
            if pandas.isna(value):
                continue
            found, when = timed.at[row, "__value"], timed.at[row, "__time"]
            if not _same(found, value) or pandas.isna(when):
                raise ValueError(f"{reference}: cannot find the event time of row {row}'s value; nothing is handed out")
            rows.append((str(frame.at[row, guard.entity_key]), guard.catalog_name(reference), rfc3339(when.timestamp())))
            cells.append((row, column))
    decided = guard.client.decide_training_set(
        rows, purpose=purpose, actor=guard.actor, subjects=subjects, context=context, training_set_id=training_set_id)
    answers_list: list[str] = decided["rows"]
    if len(answers_list) != len(rows):
        raise AccordUnavailable(0, "answer.incomplete", "an answer without one decision per row")
    columns = [guard.column(reference, full_feature_names) for reference in features]
    answers: dict[str, list[str | None]] = {column: [None] * len(frame) for column in columns}
    position = {row: index for index, row in enumerate(frame.index)}
    permitted_rows: set[int] = set()
    out = frame.astype({column: "object" for column in columns})
    for (row, column), answer in zip(cells, answers_list):
        answers[column][position[row]] = answer
        if answer.startswith("permit"):
            mask = answer.split(":", 1)[1] if ":" in answer else None
            out.at[row, column] = obligations.apply(out.at[row, column], {"mask": mask} if mask else None)
            permitted_rows.add(row)
        else:
            out.at[row, column] = None
    # Rows none of whose values may be used are left out; the manifest counts every value left out, by reason.
    kept = out[out[row_column].isin(permitted_rows)].drop(columns=[row_column]).reset_index(drop=True)
    return GuardedTrainingSet(frame=kept, manifest=decided["manifest"], answers=answers)


CATEGORY_TAG = "accord.category"
REGION_TAG = "accord.region"


@dataclass
class CatalogFromFeast:
    """A Catalog generated from a Feast registry: `yaml` (an `accord/v1` Catalog document), the features without a
    data category (`uncategorised`, as `view:feature`), and features two views name alike with different categories
    (`conflicts`)."""

    yaml: str
    features: dict[str, tuple[str, str | None]]
    uncategorised: list[str]
    conflicts: list[str]


def catalog_from_feast(store: Any, *, name: str = "feast", entity: str = "user") -> CatalogFromFeast:
    """Reads every feature view of `store` and gives each feature its data category from Feast tags: the field's
    `accord.category` tag, else its view's (and `accord.region` likewise). Catalog names are the feature names, as
    `GuardedFeatureStore` maps `view:feature` by default."""
    features: dict[str, tuple[str, str | None]] = {}
    uncategorised: list[str] = []
    conflicts: list[str] = []
    for view in sorted(store.list_feature_views(), key=lambda v: v.name):
        view_tags = dict(view.tags or {})
        for field_ in view.features:
            tags = dict(getattr(field_, "tags", None) or {})
            category = tags.get(CATEGORY_TAG) or view_tags.get(CATEGORY_TAG)
            region = tags.get(REGION_TAG) or view_tags.get(REGION_TAG)
            reference = f"{view.name}:{field_.name}"
            if not category:
                uncategorised.append(reference)
                continue
            if field_.name in features and features[field_.name][0] != category:
                conflicts.append(f"{reference}: {category}, elsewhere {features[field_.name][0]}")
                continue
            features[field_.name] = (category, region)
    lines = ["# Generated from a Feast registry by accord.feast.catalog_from_feast: categories from the accord.category tags.",
             "apiVersion: accord/v1", "kind: Catalog", f"metadata: {{ name: {name} }}", "features:"]
    for feature, (category, region) in sorted(features.items()):
        extra = f", region: {region}" if region else ""
        lines.append(f"  - {{ name: {feature}, category: {category}, entity: {entity}{extra} }}")
    if not features:
        lines[-1] = "features: []"
    return CatalogFromFeast("\n".join(lines) + "\n", features, uncategorised, conflicts)


def check_catalog(store: Any, catalog: Mapping[str, str]) -> list[str]:
    """Problems between a Feast registry and a Catalog (`{feature: category}`): features Feast serves that the
    Catalog lacks or files under another category, and features without a category tag."""
    generated = catalog_from_feast(store)
    problems = [f"{reference}: no {CATEGORY_TAG} tag" for reference in generated.uncategorised] + generated.conflicts
    for feature, (category, _) in sorted(generated.features.items()):
        if feature not in catalog:
            problems.append(f"{feature}: served by Feast, not in the Catalog")
        elif catalog[feature] != category:
            problems.append(f"{feature}: Feast tags it {category}, the Catalog says {catalog[feature]}")
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m accord.feast catalog REPO [--check CATALOG.yaml]`: prints the Catalog a Feast repository's tags
    give (features without a category on standard error, exit 1), or checks an existing Catalog against it."""
    import argparse
    import sys

    parser = argparse.ArgumentParser(prog="python -m accord.feast", description="Accord's Catalog from a Feast registry")
    commands = parser.add_subparsers(dest="command", required=True)
    catalog = commands.add_parser("catalog", help="generate (or --check) the Catalog from a Feast repository's tags")
    catalog.add_argument("repo", help="the Feast repository (the folder holding feature_store.yaml)")
    catalog.add_argument("--check", metavar="CATALOG", help="a Catalog YAML file to check against the registry instead")
    arguments = parser.parse_args(argv)
    from feast import FeatureStore

    store = FeatureStore(repo_path=arguments.repo)
    if arguments.check:
        import yaml

        with open(arguments.check, encoding="utf-8") as file:
            documents = [d for d in yaml.safe_load_all(file) if isinstance(d, dict) and d.get("kind") == "Catalog"]
        declared = {str(f["name"]): str(f["category"]) for d in documents for f in d.get("features", []) or []}
        problems = check_catalog(store, declared)
        for problem in problems:
            print(f"{arguments.check}: {problem}", file=sys.stderr)
        print(f"{'ok' if not problems else 'problems'}: {len(declared)} catalog features, {len(problems)} problem(s)")
        return 1 if problems else 0
    generated = catalog_from_feast(store)
    sys.stdout.write(generated.yaml)
    for reference in generated.uncategorised:
        print(f"{reference}: no {CATEGORY_TAG} tag; tag it with its data category", file=sys.stderr)
    for conflict in generated.conflicts:
        print(conflict, file=sys.stderr)
    return 1 if generated.uncategorised or generated.conflicts else 0


if __name__ == "__main__":
    raise SystemExit(main())
