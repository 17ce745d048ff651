"""The client against the real server: AuthZEN and native decisions, error codes, kept-alive connections,
retries only where safe, the async variant, and no answer meaning nothing served."""

from __future__ import annotations

import asyncio
import datetime
import http.server
import threading
from typing import Any, Iterator

import pytest

from accord import AccordClient, AccordError, AccordUnavailable, AsyncAccordClient

FRESH = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
SUBJECT = {"id": "py-1", "properties": {"age": 34, "jurisdiction": "EU"}}
CONTEXT = {"purpose": "personalization.recommendations", "processing_region": "EU", "actor": {"id": "py-recsys"}}
CLICKS = {"type": "feature", "id": "clicks_7d", "properties": {"collected_at": FRESH}}


def test_decisions_follow_consent_over_one_connection(client: AccordClient) -> None:
    assert client.evaluate(SUBJECT, "read_online", CLICKS, CONTEXT)["decision"] is False
    client.grant("py-1", "personalization", version=3)
    answer = client.evaluate(SUBJECT, "read_online", CLICKS, CONTEXT, request_id="py-req-1")
    assert answer["decision"] is True and answer["context"]["decision_id"]
    assert client.last_revision
    connection = client._connection()
    batch = client.evaluations(
        [{"resource": CLICKS}, {"resource": {"type": "feature", "id": "gps_last", "properties": {"collected_at": FRESH}}}],
        defaults={"subject": SUBJECT, "action": {"name": "read_online"}, "context": CONTEXT}, semantic="deny_on_first_deny")
    assert [item["decision"] for item in batch] == [True, False]
    assert client._connection() is connection, "the connection is kept alive between calls"
    native = client.decide_batch([{"actor": {"id": "py"}, "subject": {"id": "py-1", "age": 34, "jurisdiction": "EU"},
                                   "purpose": "personalization.recommendations", "action": "read_online",
                                   "resources": [{"feature": "clicks_7d", "collected_at": FRESH}], "context": {"processing_region": "EU"}}])
    assert native[0]["resources"][0]["effect"] == "permit"
    assert [(event["kind"], event["target"]) for event in client.consent_history("py-1")] == [("grant", "personalization")]


def test_errors_carry_accords_codes(client: AccordClient, server: Any) -> None:
    with pytest.raises(AccordError) as invalid:
        client.request("POST", "/access/v1/evaluation", {"subject": {"id": "x"}})
    assert invalid.value.status == 400 and invalid.value.code == "request.invalid"
    with pytest.raises(AccordError) as unauthorised:
        AccordClient(server.url, token="wrong").grant("py-2", "personalization")
    assert unauthorised.value.status == 401 and unauthorised.value.code == "auth.invalid_token"
    assert not isinstance(unauthorised.value, AccordUnavailable)


def test_ids_with_any_characters_name_the_same_person(client: AccordClient) -> None:
    for odd in ["José Díaz", "team/u-7", "a+b@x?y", "100%"]:
        client.grant(odd, "analytics")
        assert client.consent(odd)["subject"] == odd


class Flaky(http.server.BaseHTTPRequestHandler):
    """Drops the first connection of every pair without answering; answers the second."""

    seen = 0

    def handle_one_request(self) -> None:
        Flaky.seen += 1
        if Flaky.seen % 2 == 1:
            self.rfile.readline()
            self.close_connection = True
            return
        super().handle_one_request()

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    do_POST = do_GET

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture()
def flaky() -> Iterator[str]:
    Flaky.seen = 0
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Flaky)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def test_reads_are_retried_and_decisions_are_not(flaky: str) -> None:
    client = AccordClient(flaky, timeout=2, retries=2)
    assert client.request("GET", "/v1/audit/stats") == {}
    assert client.calls == 2, "a read that got no answer is sent again"
    fresh = AccordClient(flaky, timeout=2, retries=2)
    with pytest.raises(AccordUnavailable):
        fresh.request("POST", "/v1/decide", {"x": 1})
    assert fresh.calls == 1, "a decision on a new connection that got no answer is not sent twice"


def test_unreachable_is_unavailable() -> None:
    with pytest.raises(AccordUnavailable) as error:
        AccordClient("http://127.0.0.1:9", timeout=0.5, retries=0).evaluate(SUBJECT, "read_online", CLICKS, CONTEXT)
    assert error.value.code == "unreachable"


def test_the_async_client_decides_concurrently(server: Any) -> None:
    client = AsyncAccordClient(server.url, token=server.token)

    async def main() -> list[Any]:
        await client.grant("py-async", "personalization", version=3)
        subject = {"id": "py-async", "properties": {"age": 30, "jurisdiction": "EU"}}
        return await asyncio.gather(*[client.evaluate(subject, "read_online", CLICKS, CONTEXT) for _ in range(8)])

    answers = asyncio.run(main())
    assert [answer["decision"] for answer in answers] == [True] * 8
    assert len({answer["context"]["decision_id"] for answer in answers}) == 8, "eight decisions, each recorded"
