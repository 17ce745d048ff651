"""examples/python/feast_recsys end to end against the real server."""

from __future__ import annotations

import importlib.util
import pathlib
from typing import Any

from conftest import REPOSITORY


def test_the_feast_recsys_example_runs_end_to_end(server: Any, tmp_path: pathlib.Path, monkeypatch: Any) -> None:
    monkeypatch.setenv("ACCORD_URL", server.url)
    monkeypatch.setenv("ACCORD_TOKEN", server.token)
    path = REPOSITORY / "examples" / "python" / "feast_recsys" / "run.py"
    spec = importlib.util.spec_from_file_location("feast_recsys", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    summary = module.main(["--workspace", str(tmp_path / "workspace"), "--db", str(server.db)])
    assert summary["people"] == 300
    assert summary["catalog_problems"] == [], "the Feast tags agree with the reference Catalog"
    # Online: the sensitive and precise-location features are never served here; some clicks are.
    assert summary["online_statuses"]["heart_rate_avg"].get("PRESENT", 0) == 0
    assert summary["online_statuses"]["gps_last"].get("PRESENT", 0) == 0
    assert summary["online_statuses"]["clicks_7d"].get("PRESENT", 0) > 0
    # Training: people without consent, and values past retention (clicks and views are kept 90 days; the weeks go
    # back 17), are left out; the model is registered on the recorded set and the lineage of a withdrawn person names it.
    assert summary["rows_excluded"].get("consent.missing", 0) > 0
    assert summary["rows_excluded"].get("retention.expired", 0) > 0
    assert 0 < summary["training_rows"] < 300
    assert summary["model"] == "recsys-ctr@1"
    assert summary["lineage_names_model"] is True
