"""The shared obligations corpus: the Python package applies each case as the Swift gate does."""

from __future__ import annotations

import json
import pathlib

import pytest

from accord import obligations

CORPUS = pathlib.Path(__file__).resolve().parents[3] / "Tests" / "Corpus" / "obligations" / "cases.jsonl"
CASES = [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_the_corpus_covers_every_mask_and_drop() -> None:
    assert len(CASES) >= 30
    assert {case["obligations"].get("mask") for case in CASES} >= {"truncate", "hash", "redact"}
    assert any(case["obligations"].get("drop") for case in CASES)


@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_applies_as_the_corpus_says(case: dict) -> None:  # type: ignore[type-arg]
    assert obligations.apply(case["value"], case["obligations"]) == case["expected"]


def test_an_unknown_mask_is_refused_rather_than_ignored() -> None:
    with pytest.raises(ValueError):
        obligations.apply("x", {"mask": "blur"})
