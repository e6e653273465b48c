"""`make load` keeps working: a tiny clinic and five people, end to end, on PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_bench_runs import database_beside_the_tests, figures_of

ROOT = Path(__file__).resolve().parent.parent
NUMBERS = (
    "load_requests_per_s",
    "load_p95_ms_max",
    "load_cpu_ms_per_request",
    "load_signin_p50_ms",
    "load_signin_p95_ms",
)


@pytest.mark.postgres
def test_the_load_test_signs_everyone_in_and_leaves_no_errors_overlaps_or_broken_chain():
    env = {
        **os.environ,
        "LOAD_DATABASE_URL": database_beside_the_tests("load"),
        "LOAD_APPOINTMENTS": "2000",
        "LOAD_USERS": "5",
        "LOAD_SECONDS": "15",
        "LOAD_SPAWN_RATE": "5",
        "LOAD_CHART_SESSIONS": "6",
        "LOAD_INVOICES": "30",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    result = subprocess.run(
        [sys.executable, "-m", "bench.load"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    figures = figures_of(result.stdout)
    for name in NUMBERS:
        assert float(figures[name]) > 0, name
    assert int(figures["load_requests"]) > 0
    assert figures["load_errors"] == "0", result.stdout[-3000:]
    assert figures["load_overlaps"] == "0"
    assert figures["load_audit_chain"] == "verified"
    for goal in ("load_errors_goal", "load_p95_goal", "load_cpu_goal"):
        assert figures[goal] in {"met", "missed"}, goal
    assert "the server logged errors" not in result.stdout
