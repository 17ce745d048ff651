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
        data: dict[str, list[Any]] = response.to_dict(include_event_timestamps=True)
        instant = datetime.datetime.now(datetime.timezone.utc).timestamp() if now is None else now
        columns = [self.column(reference, full_feature_names) for reference in references]
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
            for reference, column in zip(references, columns):
                value = data[column][row_index]
                stamp = data.get(column + "__ts", [0] * len(entity_rows))[row_index]
                # Each value is judged by its own event time; a missing value (nothing to serve) as of now.
                collected = rfc3339(stamp) if value is not None and stamp else rfc3339(instant)
                resources.append({"feature": self.catalog_name(reference), "collected_at": collected})
            request: dict[str, Any] = {
                "actor": {"id": self.actor}, "subject": subject, "purpose": purpose, "action": action, "resources": resources,
                "context": {"processing_region": processing_region} if processing_region else {},
            }
            requests.append(request)
        # One round trip for every entity; no answer, nothing served.
        decisions = self.client.decide_batch(requests) if requests else []
        values: dict[str, list[Any]] = {column: [] for column in columns}
        statuses: dict[str, list[str]] = {column: [] for column in columns}
        reasons: dict[str, list[list[str]]] = {column: [] for column in columns}
        deadlines: dict[str, list[str | None]] = {column: [] for column in columns}
        stamps: dict[str, list[int]] = {column: list(data.get(column + "__ts", [0] * len(entity_rows))) for column in columns}
        for row_index, decision in enumerate(decisions):
            decided = decision.get("resources", [])
            if len(decided) != len(columns):
                raise AccordUnavailable(0, "answer.incomplete", "a decision without one resource per feature")
            for column, resource in zip(columns, decided):
                value = data[column][row_index]
                reasons[column].append([reason.get("code", "") for reason in resource.get("reasons", [])])
                deadlines[column].append(resource.get("delete_by"))
                if resource.get("effect") != "permit":
                    values[column].append(None)
                    statuses[column].append(DENIED)
                elif value is None:
                    values[column].append(None)
                    statuses[column].append(NOT_FOUND)
                else:
                    masked = obligations.apply(value, resource.get("obligations"))
                    values[column].append(masked)
                    statuses[column].append(PRESENT if masked is not None else DENIED)
        entity_columns = {key: list(data[key]) for key in data if key not in columns and not key.endswith("__ts")}
        return GuardedOnlineResponse(
            values=values, event_timestamps=stamps, statuses=statuses, reasons=reasons, delete_by=deadlines,
            decision_ids=[decision.get("decision_id") for decision in decisions], entity_columns=entity_columns,
        )
