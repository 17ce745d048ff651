"""Errors the client raises. Each carries Accord's stable error code."""

from __future__ import annotations


class AccordError(Exception):
    """The server answered with an error: `status` is the HTTP status, `code` Accord's stable code
    (`request.invalid`, `auth.invalid_token`, `audit.unavailable`, ...), `message` what it said."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


class AccordUnavailable(AccordError):
    """No answer: the server could not be reached, timed out, or cannot record decisions (503). Nothing may be
    served on such an answer — the guard and the client fail closed."""
