"""Audited transactions a second with one writer and with eight at once, on PostgreSQL.

Each writer is a process of its own with its own connection, as gunicorn's workers are. A
transaction is what a staff page view writes: one `audit_record` and its commit. The writers
first warm up and say they are ready; then all start together, write for
BENCH_AUDIT_SECONDS (default 10) and report how many transactions they committed.
`audit_scaling_8_vs_1` is the rate with BENCH_AUDIT_WRITERS (default 8) writers over the rate
with one. Afterwards every row is sealed and the whole log verified, so the figures only
count rows that end up in the chain.

Run on its own with `python -m bench.audit_writes`; `python -m bench` runs it when PostgreSQL
answers (BENCH_AUDIT=0 leaves it out). It builds database imsclinic_auditbench on the test
server (BENCH_AUDIT_DATABASE_URL names another) and drops it again.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench.postgres import admin_connect, database_url, recreate_database

ROOT = Path(__file__).resolve().parent.parent
DATABASE = "imsclinic_auditbench"
SECONDS = float(os.environ.get("BENCH_AUDIT_SECONDS", "10"))
WRITERS = int(os.environ.get("BENCH_AUDIT_WRITERS", "8"))
WARM_UP = 20  # transactions per writer before the clock starts
READY_WITHIN_S = 120.0
SCALING_GOAL = 3.0
ACTOR_EMAIL = "bench.physio@example.com"


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "imsclinic.settings")
    os.environ["DEBUG"] = "1"
    sys.path.insert(0, str(ROOT))
    import logging

    import django

    django.setup()
    logging.disable(logging.INFO)


def writer() -> int:
    """Write audit rows as a staff page view does, when the parent says go."""
    setup_django(os.environ["DATABASE_URL"])
    from imsclinic.accounts.models import User
    from imsclinic.core.audit import audit_record
    from imsclinic.core.models import Action

    actor = User.objects.get(email=ACTOR_EMAIL)
    number = int(os.environ.get("BENCH_AUDIT_WRITER", "0"))

    def view(n: int) -> None:
        audit_record(
            actor=actor,
            action=Action.VIEW,
            object_type="chart",
            object_id=n,
            patient_id=1 + n % 500,
            detail={"writer": number, "section": "needling"},
        )

    for n in range(WARM_UP):
        view(n)
    print("ready", flush=True)
    seconds = float(sys.stdin.readline())
    done = 0
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        view(done)
        done += 1
    print(done, flush=True)
    return 0


def run_writers(url: str, count: int) -> float:
    """Start `count` writers, let them write for SECONDS together; return transactions a second."""
    env = {**os.environ, "DATABASE_URL": url, "DEBUG": "1"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    children = [
        subprocess.Popen(
            [sys.executable, "-m", "bench.audit_writes", "--writer"],
            cwd=ROOT,
            env={**env, "BENCH_AUDIT_WRITER": str(n)},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for n in range(count)
    ]
    try:
        deadline = time.monotonic() + READY_WITHIN_S
        for child in children:
            assert child.stdout is not None
            line = child.stdout.readline().strip()
            if line != "ready" or time.monotonic() > deadline:
                raise SystemExit(f"bench: an audit writer did not start ({line!r})")
        for child in children:
            assert child.stdin is not None
            child.stdin.write(f"{SECONDS}\n")
            child.stdin.flush()
        total = 0
        for child in children:
            assert child.stdout is not None
            total += int(child.stdout.readline())
            if child.wait(timeout=60) != 0:
                raise SystemExit("bench: an audit writer failed")
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.wait()
    return total / SECONDS


def seal_and_verify() -> tuple[int, int, float]:
    """Seal whatever is waiting, verify the whole log; return rows, rows verified, seal rate."""
    from imsclinic.core import audit
    from imsclinic.core.models import AuditEvent

    rows = AuditEvent.objects.count()
    seal = getattr(audit, "seal_pending", None)
    began = time.perf_counter()
    sealed = seal() if seal is not None else 0
    seal_rate = sealed / (time.perf_counter() - began) if sealed else 0.0
    verified = 0
    for item in audit.verify_chain():
        if isinstance(item, audit.ChainBreak):
            raise SystemExit(f"bench: the audit chain broke at row {item.event_id}: {item.reason}")
        verified += 1
    return rows, verified, seal_rate


def prepare(url: str) -> None:
    setup_django(url)
    from django.core.management import call_command
    from django.db import connection

    from imsclinic.accounts.models import Role, User

    call_command("migrate", verbosity=0, interactive=False)
    User.objects.create_user(ACTOR_EMAIL, None, role=Role.PRACTITIONER)
    connection.close()


def main() -> int:
    from rich.console import Console

    console = Console(highlight=False, stderr=True)
    url = database_url(DATABASE, override="BENCH_AUDIT_DATABASE_URL")
    try:
        admin_connect(url).close()
    except Exception as error:
        where = urlsplit(url).hostname or "localhost"
        print(f"audit_writes_1_per_s: skipped (no PostgreSQL at {where}: {type(error).__name__})")
        return 0
    recreate_database(url, create=True)
    figures: list[tuple[str, Any]] = []
    try:
        with console.status("Building the audit bench's PostgreSQL database…"):
            prepare(url)
        with console.status(f"Audit writes: 1 writer for {SECONDS:g} s…"):
            one = run_writers(url, 1)
        with console.status(f"Audit writes: {WRITERS} writers for {SECONDS:g} s…"):
            many = run_writers(url, WRITERS)
        with console.status("Sealing and verifying the audit log…"):
            rows, verified, seal_rate = seal_and_verify()
    finally:
        from django.db import connection

        connection.close()
        recreate_database(url, create=False)
    scaling = many / one
    figures = [
        ("audit_writes_seconds", SECONDS),
        ("audit_writers", WRITERS),
        ("audit_writes_1_per_s", one),
        (f"audit_writes_{WRITERS}_per_s", many),
        (f"audit_scaling_{WRITERS}_vs_1", scaling),
        ("audit_scaling_goal", "met" if scaling >= SCALING_GOAL else "missed"),
        ("audit_rows_written", rows),
        ("audit_rows_verified", verified),
        ("audit_seal_per_s", seal_rate),
    ]
    for name, value in figures:
        print(f"{name}: {value:.2f}" if isinstance(value, float) else f"{name}: {value}")
    if verified != rows:
        console.print(f"bench: {rows} audit rows written but {verified} verified")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(writer() if sys.argv[1:] == ["--writer"] else main())
