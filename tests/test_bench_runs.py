"""`make bench` keeps working: small runs end to end (figures are for people, not asserts)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent
FIGURE = re.compile(r"[a-z0-9_]+: \S+")
NUMBERS = (
    "availability_ms",
    "availability_queries",
    "availability_vs_raw_ratio",
    "history_growth_ratio",
    "inprocess_booking_vs_bare_ratio",
    "booking_ms_p50",
    "booking_ms_p95",
    "seed_s",
    "chart_100_sessions_ms",
    "chart_100_sessions_queries",
    "billing_day_sheet_ms",
    "billing_day_sheet_queries",
    "billing_receivables_ms",
    "billing_receivables_queries",
)
GOALS = (
    "availability_queries",
    "availability_vs_raw_ratio",
    "history_growth_ratio",
)
HTTP_NUMBERS = (
    "booking_rps",
    "bare_rps",
    "booking_vs_bare_ratio",
    "booking_p50_ms",
    "booking_p95_ms",
    "bare_p50_ms",
    "booking_queries",
    "bare_queries",
)


def test_the_benchmark_runs_end_to_end_on_a_small_clinic():
    env = {
        **os.environ,
        "BENCH_PATIENTS": "60",
        "BENCH_APPOINTMENTS": "3000",
        "BENCH_SEARCHES": "3",
        "BENCH_BOOKINGS": "20",
        "BENCH_BILLING_INVOICES": "400",
        "BENCH_HTTP": "0",  # the PostgreSQL parts have their own tests below
        "BENCH_AUDIT": "0",
        "DEBUG": "1",
    }
    env.pop("DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "-m", "bench"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "bench: search p95" in result.stdout
    figures = dict(
        line.split(": ", 1) for line in result.stdout.splitlines() if FIGURE.fullmatch(line)
    )
    for name in NUMBERS:
        assert float(figures[name]) >= 0, name
    assert int(figures["availability_queries"]) <= 5
    assert int(figures["appointments_seeded"]) > 2000
    assert int(figures["availability_slots"]) > 0
    for name in GOALS:
        assert figures[f"{name}_goal"] in {"met", "missed"}, name
    assert "booking_vs_bare_ratio: skipped (BENCH_HTTP=0)" in result.stdout.splitlines()
    assert "audit_writes_1_per_s: skipped (BENCH_AUDIT=0)" in result.stdout.splitlines()


def figures_of(output: str) -> dict[str, str]:
    return dict(line.split(": ", 1) for line in output.splitlines() if FIGURE.fullmatch(line))


def database_beside_the_tests(suffix: str) -> str:
    """Return the URL of a database of its own, so parallel runs and `make bench` do not meet."""
    settings = connection.settings_dict
    user = quote(settings["USER"] or "", safe="")
    password = quote(settings["PASSWORD"] or "", safe="")
    login = f"{user}:{password}@" if password else f"{user}@" if user else ""
    port = f":{settings['PORT']}" if settings["PORT"] else ""
    return f"postgres://{login}{settings['HOST'] or '127.0.0.1'}{port}/{settings['NAME']}_{suffix}"


@pytest.mark.postgres
def test_the_audit_writes_benchmark_runs_with_one_and_eight_writers():
    env = {
        **os.environ,
        "BENCH_AUDIT_DATABASE_URL": database_beside_the_tests("audit"),
        "BENCH_AUDIT_SECONDS": "1",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    result = subprocess.run(
        [sys.executable, "-m", "bench.audit_writes"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    figures = figures_of(result.stdout)
    for name in (
        "audit_writes_1_per_s",
        "audit_writes_8_per_s",
        "audit_scaling_8_vs_1",
        "audit_bare_scaling_8_vs_1",
        "audit_writes_8_sealing_per_s",
        "audit_seal_per_s",
    ):
        assert float(figures[name]) > 0, name
    assert figures["audit_scaling_goal"] in {"met", "missed"}
    assert int(figures["audit_rows_written"]) == int(figures["audit_rows_verified"]) > 0
    assert int(figures["audit_unsealed_when_writers_stop"]) >= 0
    assert float(figures["audit_sealed_within_s"]) >= 0


@pytest.mark.postgres
def test_the_http_booking_benchmark_runs_on_a_small_clinic():
    env = {
        **os.environ,
        "BENCH_HTTP_DATABASE_URL": database_beside_the_tests("http"),
        "BENCH_HTTP_APPOINTMENTS": "2000",
        "BENCH_HTTP_REQUESTS": "50",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    result = subprocess.run(
        [sys.executable, "-m", "bench.booking_http"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    figures = figures_of(result.stdout)
    for name in HTTP_NUMBERS:
        assert float(figures[name]) > 0, name
    assert figures["booking_vs_bare_goal"] in {"met", "missed"}
    assert int(figures["booking_requests"]) == int(figures["bare_requests"]) == 50
    assert int(figures["booking_201"]) + int(figures["booking_409"]) == 50
    assert int(figures["bare_201"]) == 50
    assert "bench: the server logged errors" not in result.stderr
