"""Obligations applied to a value, exactly as Accord's gate applies them (`Obligations.apply(to:)` in Swift): the
shared corpus `Tests/Corpus/obligations/cases.jsonl` holds the cases both are tested against.

- `drop` removes fields of an object (`a.b` reaches into nested objects);
- `mask` then transforms what is left, an object or a list field by field: `redact` removes the value, `hash`
  replaces it with `sha256:` and the hex SHA-256 of its text, `truncate` keeps a string's first four characters
  (removing a string of four or fewer) and a number's two leading digits; booleans stay, a null stays null.
"""

from __future__ import annotations

import hashlib
import math
from typing import Any, Mapping

#: What `apply` returns for a value the obligations remove.
REMOVED: Any = None
_GONE = object()


def apply(value: Any, obligations: Mapping[str, Any] | None) -> Any:
    """The value the caller may use, or None when the obligations remove it."""
    obligations = obligations or {}
    for path in obligations.get("drop", []) or []:
        value = _dropping(str(path).split("."), value)
    result = _masked(value, obligations.get("mask"))
    return None if result is _GONE else result


def _dropping(path: list[str], value: Any) -> Any:
    if not path or not isinstance(value, dict):
        return value
    head, rest = path[0], path[1:]
    if not rest:
        return {key: field for key, field in value.items() if key != head}
    return {key: (_dropping(rest, field) if key == head else field) for key, field in value.items()}


def _masked(value: Any, mask: str | None) -> Any:
    if mask is None or value is None:
        return value
    if mask not in ("truncate", "hash", "redact"):
        raise ValueError(f"unknown mask {mask!r}: Accord defines truncate, hash and redact")
    if isinstance(value, dict):
        out = {}
        for key, field in value.items():
            masked = _masked(field, mask)
            if masked is not _GONE:
                out[key] = masked
        return out
    if isinstance(value, (list, tuple)):
        return [m for m in (_masked(item, mask) for item in value) if m is not _GONE]
    if mask == "redact":
        return _GONE
    if mask == "hash":
        return "sha256:" + hashlib.sha256(text_of(value).encode("utf-8")).hexdigest()
    # truncate
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return _GONE if len(value) <= 4 else value[:4]
    if isinstance(value, int):
        return two_digits(value)
    if isinstance(value, float):
        if value == 0 or not math.isfinite(value):
            return value
        # The C library's log10 and pow, as Swift's Foundation calls them: the same digits either side.
        scale = math.pow(10, math.floor(math.log10(abs(value))) - 1)
        return float(math.trunc(value / scale)) * scale
    return value


def two_digits(number: int) -> int:
    """A number cut to its two leading digits, towards zero (`1234` → `1200`, `-987` → `-980`)."""
    scale = 1
    while abs(int(number / scale)) >= 100:
        scale *= 10
    return int(number / scale) * scale


def text_of(value: Any) -> str:
    """The text a value is hashed by: a string as it is, `true`/`false`, a number as Swift writes it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return swift_double(value)
    raise TypeError(f"cannot hash a {type(value).__name__}")


def swift_double(value: float) -> str:
    """A double as Swift's `description` writes it: Python's shortest round-trip digits, which agree, except that
    Swift switches to the exponent form above 2^53 where Python waits until 1e16."""
    text = repr(value)
    if "e" not in text and "inf" not in text and "nan" not in text and 2.0**53 < abs(value) < 1e16:
        sign = "-" if value < 0 else ""
        digits = text.lstrip("-").split(".")[0]
        fraction = text.split(".")[1] if "." in text else ""
        mantissa = (digits + fraction).rstrip("0")
        exponent = len(digits) - 1
        body = mantissa[0] + ("." + mantissa[1:] if len(mantissa) > 1 else "")
        return f"{sign}{body}e+{exponent:02d}"
    return text
