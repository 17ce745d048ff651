"""A client for Accord's decision server, using only Python's standard library.

    client = AccordClient("http://127.0.0.1:8181", token=os.environ.get("ACCORD_TOKEN"))
    client.evaluate(subject={"id": "u-1", "properties": {"jurisdiction": "EU", "age": 34}},
                    action="read_online", resource={"type": "feature", "id": "clicks_7d"},
                    context={"purpose": "personalization.recommendations", "processing_region": "EU"})

and, Feast-style, a guard in front of any online store:

    guard = GuardedFeatureStore(client, fetch=my_store.get_online_features, actor="recsys")
    guard.get_online_features(["clicks_7d", "gps_last"], [{"user_id": "u-1", "jurisdiction": "EU", "age": 34}],
                              purpose="personalization.recommendations", processing_region="EU")

Every answer is a decision Accord recorded; a value comes back only if its feature is permitted.
"""

import datetime
import json
import urllib.error
import urllib.parse
import urllib.request


def _now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class AccordError(Exception):
    """An error answered by the server (`code` is stable), or the server could not be reached."""

    def __init__(self, status, code, message):
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message = status, code, message


class AccordClient:
    def __init__(self, base_url="http://127.0.0.1:8181", token=None, timeout=10.0):
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.last_revision = None

    def _call(self, method, path, body=None, headers=None, auth=False):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base_url + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if auth and self.token:
            request.add_header("Authorization", "Bearer " + self.token)
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                self.last_revision = response.headers.get("Accord-Revision")
                return json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as error:
            try:
                problem = json.loads(error.read()).get("error", {})
            except ValueError:
                problem = {}
            raise AccordError(error.code, problem.get("code", "http.error"), problem.get("message", str(error))) from None
        except urllib.error.URLError as error:
            raise AccordError(0, "unreachable", str(error.reason)) from None

    # AuthZEN 1.0
    def evaluate(self, subject, action, resource, context, request_id=None):
        """One AuthZEN evaluation; returns the response ({"decision": bool, "context": {...}})."""
        body = {"subject": dict(subject, type=subject.get("type", "user")), "action": {"name": action},
                "resource": resource, "context": context}
        return self._call("POST", "/access/v1/evaluation", body, headers={"X-Request-ID": request_id} if request_id else None)

    def evaluations(self, items, defaults=None, semantic="execute_all"):
        defaults = dict(defaults or {})
        if "subject" in defaults:
            defaults["subject"] = dict(defaults["subject"], type=defaults["subject"].get("type", "user"))
        items = [dict(item, subject=dict(item["subject"], type=item["subject"].get("type", "user"))) if "subject" in item else item
                 for item in items]
        body = dict(defaults, evaluations=items, options={"evaluations_semantic": semantic})
        return self._call("POST", "/access/v1/evaluations", body)["evaluations"]

    # Accord's native API
    def decide(self, request):
        return self._call("POST", "/v1/decide", request)

    def decide_batch(self, requests):
        return self._call("POST", "/v1/decide/batch", {"requests": requests})["decisions"]

    @staticmethod
    def _subject_path(subject):
        # Every byte but unreserved ones percent-encoded (RFC 3986), so that ids with '/', '?', '%', '+', spaces
        # or non-ASCII letters name the same person on the server.
        return "/v1/consent/" + urllib.parse.quote(str(subject), safe="")

    def grant(self, subject, scope, version=None, by_guardian=False):
        body = {"scope": scope, "by_guardian": by_guardian}
        if version is not None:
            body["version"] = version
        return self._call("POST", self._subject_path(subject) + "/grant", body, auth=True)

    def withdraw(self, subject, scope):
        return self._call("POST", self._subject_path(subject) + "/withdraw", {"scope": scope}, auth=True)

    def consent(self, subject):
        return self._call("GET", self._subject_path(subject), auth=True)

    def consent_history(self, subject):
        return self._call("GET", self._subject_path(subject) + "/history", auth=True)["events"]


class GuardedFeatureStore:
    """Feast-style online reads through Accord: the caller gets back only permitted values.

    `fetch(entity_id, features)` reads the underlying store (a Feast FeatureStore's online read, a dict, ...)
    and returns {feature: (value, event_time)} — event times as RFC 3339 strings, as Feast returns them — or
    None for a missing value. Each value is decided with its event time (so retention limits apply); a missing
    one as if fresh (NOT_FOUND where a value would be permitted). Denied values are dropped here and never
    returned.
    """

    def __init__(self, client, fetch, actor, entity_key="user_id"):
        self.client, self.fetch, self.actor, self.entity_key = client, fetch, actor, entity_key

    def get_online_features(self, features, entity_rows, purpose, processing_region=None, action="read_online"):
        """Returns one dict per entity row: {"values": {feature: value or None}, "status": {feature: PRESENT|NOT_FOUND|DENIED},
        "reasons": {feature: [codes]}, "decision_id": ...}."""
        fetched = [self.fetch(row[self.entity_key], list(features)) for row in entity_rows]
        requests = []
        for row, found in zip(entity_rows, fetched):
            subject = {"id": row[self.entity_key]}
            for key in ("age", "jurisdiction"):
                if key in row:
                    subject[key] = row[key]
            resources = []
            for f in features:
                resource = {"feature": f}
                if found.get(f) is not None and found[f][1]:
                    resource["collected_at"] = found[f][1]
                else:
                    resource["collected_at"] = _now()
                resources.append(resource)
            requests.append({"actor": {"id": self.actor}, "subject": subject, "purpose": purpose, "action": action,
                             "resources": resources, "context": {"processing_region": processing_region} if processing_region else {}})
        decisions = self.client.decide_batch(requests)
        results = []
        for found, decision in zip(fetched, decisions):
            values, status, reasons = {}, {}, {}
            for f, resource in zip(features, decision["resources"]):
                reasons[f] = [r["code"] for r in resource.get("reasons", [])]
                if resource.get("effect") != "permit":
                    values[f], status[f] = None, "DENIED"
                elif found.get(f) is None:
                    values[f], status[f] = None, "NOT_FOUND"
                else:
                    values[f], status[f] = found[f][0], "PRESENT"
            results.append({"values": values, "status": status, "reasons": reasons, "decision_id": decision.get("decision_id")})
        return results
