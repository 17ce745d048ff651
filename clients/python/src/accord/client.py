"""A client for `accord serve`: AuthZEN 1.0 and Accord's native API, consent, lineage.

Connections are kept alive (one per thread), every call has a timeout, and only calls that can be repeated
safely are retried: reads (GET) on any failure, and any call whose request could not have reached the server (a
kept-alive connection the server had already closed). A call that gets no answer raises `AccordUnavailable`:
callers fail closed, serving nothing.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import socket
import threading
import time
import urllib.parse
from typing import Any, Iterable, Iterator, Mapping, Sequence

from .errors import AccordError, AccordUnavailable

JSON = Any


class _Connection(http.client.HTTPConnection):
    """A connection that sends each request at once (TCP_NODELAY): small request and response bodies otherwise wait
    on Nagle's algorithm, a quarter of a decision's round trip on loopback."""

    def connect(self) -> None:
        super().connect()
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _TLSConnection(http.client.HTTPSConnection):
    def connect(self) -> None:
        super().connect()
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class AccordClient:
    """`AccordClient("http://127.0.0.1:8181", token=os.environ["ACCORD_TOKEN"])`."""

    def __init__(
        self,
        base_url: str = "http://127.0.0.1:8181",
        token: str | None = None,
        timeout: float = 5.0,
        retries: int = 2,
        backoff: float = 0.05,
    ) -> None:
        parsed = urllib.parse.urlsplit(base_url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise ValueError(f"base_url must be http(s)://host[:port], not {base_url!r}")
        self._scheme = parsed.scheme
        self._host = parsed.hostname
        self._port = parsed.port or (443 if parsed.scheme == "https" else 80)
        self._prefix = parsed.path.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self._local = threading.local()
        #: The policy revision of the last answer (`Accord-Revision`).
        self.last_revision: str | None = None
        #: Calls made (HTTP requests sent), for callers that count round trips.
        self.calls = 0

    # MARK: - Transport

    def _connection(self) -> http.client.HTTPConnection:
        connection: http.client.HTTPConnection | None = getattr(self._local, "connection", None)
        if connection is None:
            kind = _TLSConnection if self._scheme == "https" else _Connection
            connection = kind(self._host, self._port, timeout=self.timeout)
            self._local.connection = connection
            self._local.used = False
        return connection

    def _drop_connection(self) -> None:
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
        self._local.connection = None

    def close(self) -> None:
        """Closes this thread's connection (others close when their threads end)."""
        self._drop_connection()

    def request(self, method: str, path: str, body: JSON = None, *, auth: bool = False, headers: Mapping[str, str] | None = None) -> JSON:
        """One call; the decoded JSON answer. Raises `AccordError` for an error answer, `AccordUnavailable` for none."""
        payload = None if body is None else json.dumps(body, ensure_ascii=False).encode()
        fields = {"Content-Type": "application/json", "Accept": "application/json"}
        if auth and self.token:
            fields["Authorization"] = "Bearer " + self.token
        fields.update(headers or {})
        attempt = 0
        while True:
            reused = getattr(self._local, "used", False) and getattr(self._local, "connection", None) is not None
            try:
                connection = self._connection()
                self.calls += 1
                connection.request(method, self._prefix + path, body=payload, headers=fields)
                response = connection.getresponse()
                data = response.read()
                self._local.used = True
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as error:
                self._drop_connection()
                # A kept-alive connection the server had closed: the request never reached it, so any call may be
                # sent again, once, on a new connection. A read may be retried whatever failed.
                if (reused or method == "GET") and attempt < self.retries:
                    attempt += 1
                    continue
                raise AccordUnavailable(0, "unreachable", f"{method} {path}: {error}") from None
            except (OSError, http.client.HTTPException, socket.timeout) as error:
                self._drop_connection()
                if method == "GET" and attempt < self.retries:
                    attempt += 1
                    time.sleep(self.backoff * attempt)
                    continue
                raise AccordUnavailable(0, "unreachable", f"{method} {path}: {error}") from None
            self.last_revision = response.getheader("Accord-Revision") or self.last_revision
            if response.getheader("Connection", "").lower() == "close":
                self._drop_connection()
            if 200 <= response.status < 300:
                return json.loads(data) if data else {}
            try:
                problem = json.loads(data).get("error", {})
            except (ValueError, AttributeError):
                problem = {}
            code = problem.get("code", "http.error") if isinstance(problem, dict) else "http.error"
            message = problem.get("message", data.decode(errors="replace")) if isinstance(problem, dict) else ""
            if response.status == 503:
                raise AccordUnavailable(response.status, code, message)
            raise AccordError(response.status, code, message)

    # MARK: - AuthZEN 1.0

    def evaluate(
        self, subject: Mapping[str, Any], action: str, resource: Mapping[str, Any], context: Mapping[str, Any] | None = None,
        *, request_id: str | None = None,
    ) -> JSON:
        """One AuthZEN evaluation: `{"decision": bool, "context": {...}}`. A subject without a type is a `user`."""
        body = {"subject": {"type": "user", **subject}, "action": {"name": action}, "resource": dict(resource), "context": dict(context or {})}
        return self.request("POST", "/access/v1/evaluation", body, headers={"X-Request-ID": request_id} if request_id else None)

    def evaluations(self, items: Sequence[Mapping[str, Any]], defaults: Mapping[str, Any] | None = None, semantic: str = "execute_all") -> list[JSON]:
        """Several evaluations; top-level `defaults` fill what an item leaves out. Answers in order."""
        body: dict[str, Any] = dict(defaults or {})
        if "subject" in body:
            body["subject"] = {"type": "user", **body["subject"]}
        body["evaluations"] = [dict(item, subject={"type": "user", **item["subject"]}) if "subject" in item else dict(item) for item in items]
        body["options"] = {"evaluations_semantic": semantic}
        answers: list[JSON] = self.request("POST", "/access/v1/evaluations", body)["evaluations"]
        return answers

    def search(self, kind: str, query: Mapping[str, Any], *, limit: int | None = None) -> list[JSON]:
        """AuthZEN search (`subject`, `resource` or `action`), every page: the permitted results."""
        results: list[JSON] = []
        token = ""
        while True:
            page: dict[str, Any] = {"token": token}
            if limit is not None:
                page["limit"] = limit
            answer = self.request("POST", f"/access/v1/search/{kind}", dict(query, page=page))
            results.extend(answer.get("results", []))
            token = answer.get("page", {}).get("next_token", "")
            if not token:
                return results

    # MARK: - Native API

    def decide(self, request: Mapping[str, Any]) -> JSON:
        return self.request("POST", "/v1/decide", request)

    def decide_batch(self, requests: Sequence[Mapping[str, Any]]) -> list[JSON]:
        """Several requests in one round trip, recorded in one commit; decisions in order."""
        decisions: list[JSON] = self.request("POST", "/v1/decide/batch", {"requests": list(requests)})["decisions"]
        if len(decisions) != len(requests):
            raise AccordUnavailable(0, "answer.incomplete", f"{len(decisions)} decisions for {len(requests)} requests")
        return decisions

    # MARK: - Training sets and lineage

    def decide_training_set(
        self, rows: Iterable[tuple[str, str, str]], *, purpose: str, actor: str | Mapping[str, Any],
        subjects: Sequence[Mapping[str, Any]] = (), context: Mapping[str, Any] | None = None, training_set_id: str | None = None,
        chunk_rows: int = 5_000,
    ) -> JSON:
        """Decides a training set the caller assembled — `rows` of (subject, feature, event time as RFC 3339) — and
        records it with its lineage: `{"manifest": {...}, "rows": ["permit", "permit:truncate", "deny:consent.missing", ...]}`.
        The rows are streamed (JSON Lines, chunked), so a set is not bounded by a request body's size. Not retried:
        a training set is recorded once."""
        header: dict[str, Any] = {"purpose": purpose, "actor": {"id": actor} if isinstance(actor, str) else dict(actor)}
        if subjects:
            header["subjects"] = [dict(subject) for subject in subjects]
        if context:
            header["context"] = dict(context)
        if training_set_id:
            header["id"] = training_set_id

        def lines() -> Iterator[bytes]:
            yield json.dumps(header, ensure_ascii=False).encode() + b"\n"
            batch: list[bytes] = []
            for subject, feature, event_time in rows:
                batch.append(json.dumps([str(subject), feature, event_time], ensure_ascii=False).encode())
                if len(batch) >= chunk_rows:
                    yield b"\n".join(batch) + b"\n"
                    batch = []
            if batch:
                yield b"\n".join(batch) + b"\n"

        return self._stream("POST", "/v1/training-sets/decide", lines())

    def register_model(self, name: str, version: str, training_set: str) -> JSON:
        """Records that a model was trained on a training set Accord decided (lineage: `accord lineage --subject`)."""
        return self.request("POST", "/v1/models", {"name": name, "version": version, "training_set": training_set}, auth=True)

    def _stream(self, method: str, path: str, chunks: Iterator[bytes]) -> JSON:
        """A call whose body is sent in chunks (Transfer-Encoding: chunked) on its own connection."""
        kind = _TLSConnection if self._scheme == "https" else _Connection
        connection = kind(self._host, self._port, timeout=max(self.timeout, 60.0))
        headers = {"Content-Type": "application/x-ndjson", "Accept": "application/json"}
        if self.token:
            headers["Authorization"] = "Bearer " + self.token
        try:
            self.calls += 1
            connection.request(method, self._prefix + path, body=chunks, headers=headers, encode_chunked=True)
            response = connection.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException) as error:
            raise AccordUnavailable(0, "unreachable", f"{method} {path}: {error}") from None
        finally:
            connection.close()
        self.last_revision = response.getheader("Accord-Revision") or self.last_revision
        if 200 <= response.status < 300:
            return json.loads(data)
        try:
            problem = json.loads(data).get("error", {})
        except (ValueError, AttributeError):
            problem = {}
        code, message = problem.get("code", "http.error"), problem.get("message", "")
        raise (AccordUnavailable if response.status == 503 else AccordError)(response.status, code, message)

    # MARK: - Consent

    @staticmethod
    def _subject_path(subject: str) -> str:
        # Every byte but the unreserved ones percent-encoded (RFC 3986), so that ids with '/', '?', '%', '+',
        # spaces or non-ASCII letters name the same person on the server.
        return "/v1/consent/" + urllib.parse.quote(str(subject), safe="")

    def grant(self, subject: str, scope: str, version: int | None = None, by_guardian: bool = False) -> JSON:
        body: dict[str, Any] = {"scope": scope, "by_guardian": by_guardian}
        if version is not None:
            body["version"] = version
        return self.request("POST", self._subject_path(subject) + "/grant", body, auth=True)

    def withdraw(self, subject: str, scope: str) -> JSON:
        return self.request("POST", self._subject_path(subject) + "/withdraw", {"scope": scope}, auth=True)

    def consent(self, subject: str) -> JSON:
        return self.request("GET", self._subject_path(subject), auth=True)

    def consent_history(self, subject: str) -> list[JSON]:
        events: list[JSON] = self.request("GET", self._subject_path(subject) + "/history", auth=True)["events"]
        return events

    def audit_stats(self) -> JSON:
        return self.request("GET", "/v1/audit/stats")


class AsyncAccordClient:
    """The same calls for asyncio: each runs the blocking client on a worker thread (with that thread's own
    kept-alive connection), so a coroutine never blocks the event loop."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.sync = AccordClient(*args, **kwargs)

    async def _run(self, name: str, *args: Any, **kwargs: Any) -> Any:
        return await asyncio.to_thread(getattr(self.sync, name), *args, **kwargs)

    async def evaluate(self, *args: Any, **kwargs: Any) -> JSON:
        return await self._run("evaluate", *args, **kwargs)

    async def evaluations(self, *args: Any, **kwargs: Any) -> list[JSON]:
        result: list[JSON] = await self._run("evaluations", *args, **kwargs)
        return result

    async def decide(self, request: Mapping[str, Any]) -> JSON:
        return await self._run("decide", request)

    async def decide_batch(self, requests: Sequence[Mapping[str, Any]]) -> list[JSON]:
        result: list[JSON] = await self._run("decide_batch", requests)
        return result

    async def grant(self, *args: Any, **kwargs: Any) -> JSON:
        return await self._run("grant", *args, **kwargs)

    async def withdraw(self, subject: str, scope: str) -> JSON:
        return await self._run("withdraw", subject, scope)

    async def consent(self, subject: str) -> JSON:
        return await self._run("consent", subject)
