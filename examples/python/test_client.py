"""Runs the Python client against a running `accord serve` (started by the Swift test ServerTests):
python3 examples/python/test_client.py BASE_URL TOKEN. Exits 1 on the first failed check."""

import datetime
import sys

from accord_client import AccordClient, AccordError, GuardedFeatureStore

base, token = sys.argv[1], sys.argv[2]
client = AccordClient(base, token=token)
now = datetime.datetime.now(datetime.timezone.utc)
fresh = (now - datetime.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
checks = 0


def check(condition, what):
    global checks
    checks += 1
    if not condition:
        print("FAIL:", what)
        sys.exit(1)


subject = {"id": "py-1", "properties": {"age": 34, "jurisdiction": "EU"}}
context = {"purpose": "personalization.recommendations", "processing_region": "EU", "actor": {"id": "py-recsys"}}
answer = client.evaluate(subject, "read_online", {"type": "feature", "id": "clicks_7d", "properties": {"collected_at": fresh}}, context,
                         request_id="py-req-1")
check(answer["decision"] is False, "no consent yet: denied")
check(client.last_revision, "the response names the policy revision")

client.grant("py-1", "personalization", version=3)
answer = client.evaluate(subject, "read_online", {"type": "feature", "id": "clicks_7d", "properties": {"collected_at": fresh}}, context)
check(answer["decision"] is True, "permitted once consent is granted")

results = client.evaluations([{"resource": {"type": "feature", "id": "clicks_7d", "properties": {"collected_at": fresh}}},
                              {"resource": {"type": "feature", "id": "gps_last", "properties": {"collected_at": fresh}}}],
                             defaults={"subject": subject, "action": {"name": "read_online"}, "context": context}, semantic="deny_on_first_deny")
check([r["decision"] for r in results] == [True, False], "batch, stopping at the first deny")

# The Feast-style guard: values with their event times; only permitted ones come back.
old = (now - datetime.timedelta(days=200)).strftime("%Y-%m-%dT%H:%M:%SZ")
store = {"py-1": {"clicks_7d": (12, fresh), "gps_last": ("52.52,13.40", fresh), "views_30d": None, "clicks_30d": (40, old)}}


def fetch(entity, features):
    return {f: store.get(entity, {}).get(f) for f in features}


guard = GuardedFeatureStore(client, fetch, actor="py-recsys")
rows = guard.get_online_features(["clicks_7d", "gps_last", "views_30d", "clicks_30d"], [{"user_id": "py-1", "age": 34, "jurisdiction": "EU"}],
                                 purpose="personalization.recommendations", processing_region="EU")
check(rows[0]["status"] == {"clicks_7d": "PRESENT", "gps_last": "DENIED", "views_30d": "NOT_FOUND", "clicks_30d": "DENIED"}, f"statuses: {rows[0]['status']}")
check(rows[0]["values"]["clicks_7d"] == 12 and rows[0]["values"]["gps_last"] is None, "only permitted values")
check("retention.expired" in rows[0]["reasons"]["clicks_30d"], "a value past its retention limit is denied")
check("rule.forbid" in rows[0]["reasons"]["gps_last"], "the reason comes back")

client.withdraw("py-1", "personalization")
rows = guard.get_online_features(["clicks_7d"], [{"user_id": "py-1", "age": 34, "jurisdiction": "EU"}],
                                 purpose="personalization.recommendations", processing_region="EU")
check(rows[0]["status"]["clicks_7d"] == "DENIED" and "consent.missing" in rows[0]["reasons"]["clicks_7d"], "withdrawal in force")

# Ids that a URL would otherwise mangle: each is percent-encoded by the client and decoded once by the server.
for odd in ["José Díaz", "a@b.example", "team/u-7", "100%", "u+1", "who?", "Jos%C3%A9"]:
    person = {"id": odd, "properties": {"age": 34, "jurisdiction": "EU"}}
    resource = {"type": "feature", "id": "clicks_7d", "properties": {"collected_at": fresh}}
    client.grant(odd, "personalization", version=3)
    check(client.evaluate(person, "read_online", resource, context)["decision"] is True, f"{odd!r}: permitted after the grant")
    client.withdraw(odd, "personalization")
    check(client.evaluate(person, "read_online", resource, context)["decision"] is False, f"{odd!r}: denied after the withdrawal")
    kinds = [event["kind"] for event in client.consent_history(odd)]
    check(kinds == ["grant", "withdraw"], f"{odd!r}: history {kinds}")

try:
    AccordClient(base, token="wrong-token-1234567").grant("py-1", "ads")
    check(False, "a wrong token is refused")
except AccordError as error:
    check(error.status == 401 and error.code == "auth.invalid_token", f"wrong token: {error}")

print(f"ok: {checks} checks")
