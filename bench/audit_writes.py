"""Audited transactions a second with one writer and with eight at once, on PostgreSQL.

Each writer is a process of its own with its own connection, as gunicorn's workers are,
with DEBUG off as in production. A transaction is what a staff page view writes: one
`audit_record` and its commit. The writers first warm up and say they are ready; then all
start together, write for BENCH_AUDIT_SECONDS (default 10) and report how many transactions
they committed. `audit_scaling_8_vs_1` is the rate with BENCH_AUDIT_WRITERS (default 8)
writers over the rate with one.

Also measured, the same way:
- `audit_bare_*`: the same row saved with a plain `Model.save()`, no chain at all: what this
  machine allows, the ceiling for `audit_record`;
- `audit_seal_per_s`: sealing the rows of the first two runs alone, one batch after another;
  then the whole log is verified, so those figures only count rows that end up in the chain;
- `audit_writes_8_sealing_per_s`: eight writers while the task worker (`manage.py db_worker`)
  seals beside them, as in production, then how many of that run's rows were still unsealed
  when the writers stopped, and how long the worker took to seal them.

Run on its own with `python -m bench.audit_writes`; `python -m bench` runs it when PostgreSQL
answers (BENCH_AUDIT=0 leaves it out). It builds database imsclinic_auditbench on the test
server (BENCH_AUDIT_DATABASE_URL names another) and drops it again.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import tempfile
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
SEALED_WITHIN_S = 120.0
SCALING_GOAL = 3.0
ACTOR_EMAIL = "bench.physio@example.com"
# As in production: DEBUG off, so Django keeps no log of every query.
PRODUCTION_LIKE = {
    "DEBUG": "0",
    "SECRET_KEY": "audit-writes-bench-only-" + "x" * 40,
    "LOG_LEVEL": "WARNING",
}


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "imsclinic.settings")
    os.environ.setdefault("DEBUG", "1")
    sys.path.insert(0, str(ROOT))
    import logging

    import django

    django.setup()
    logging.disable(logging.INFO)


def writer(bare: bool) -> int:
    """Write audit rows as a staff page view does (or bare rows), when the parent says go."""
    setup_django(os.environ["DATABASE_URL"])
    from imsclinic.accounts.models import User
    from imsclinic.core.audit import audit_record
    from imsclinic.core.models import Action, AuditEvent

    actor = User.objects.get(email=ACTOR_EMAIL)
    number = int(os.environ.get("BENCH_AUDIT_WRITER", "0"))
    # Columns the chain fills at insert in some designs; a bare row gets unique junk there.
    unchained = [
        field.name
        for field in AuditEvent._meta.concrete_fields
        if field.name in ("prev_hash", "hash") and not field.null
    ]

    def view(n: int) -> None:
        audit_record(
            actor=actor,
            action=Action.VIEW,
            object_type="chart",
            object_id=n,
            patient_id=1 + n % 500,
            detail={"writer": number, "section": "needling"},
        )

    def bare_row(n: int) -> None:
        from django.utils import timezone

        row = AuditEvent(
            at=timezone.now(),
            actor=actor,
            actor_email=actor.email,
            role=actor.role,
            patient_id=1 + n % 500,
            action=Action.VIEW,
            object_type="chart",
            object_id=str(n),
            detail={"writer": number, "section": "needling"},
        )
        for name in unchained:
            setattr(row, name, secrets.token_hex(32))
        row.save()

    write = bare_row if bare else view
    for n in range(WARM_UP):
        write(n)
    print("ready", flush=True)
    seconds = float(sys.stdin.readline())
    done = 0
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        write(done)
        done += 1
    print(done, flush=True)
    return 0


def run_writers(url: str, count: int, *, bare: bool = False) -> float:
    """Start `count` writers, let them write for SECONDS together; return transactions a second."""
    env = {**os.environ, "DATABASE_URL": url, **PRODUCTION_LIKE}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    mode = "--bare-writer" if bare else "--writer"
    children = [
        subprocess.Popen(
            [sys.executable, "-m", "bench.audit_writes", mode],
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


def unsealed_rows() -> int:
    from imsclinic.core.models import AuditEvent

    return AuditEvent.objects.filter(seal__isnull=True).count()


def run_writers_beside_the_worker(url: str) -> tuple[float, int, float]:
    """Write with WRITERS writers while the task worker seals; return the rate and the backlog.

    The backlog is how many rows were unsealed when the writers stopped, and how long the
    worker then took to seal them all.
    """
    from django.db import connection

    with tempfile.TemporaryDirectory(prefix="audit-bench-") as folder:
        env = {
            **os.environ,
            "DATABASE_URL": url,
            **PRODUCTION_LIKE,
            "AUDIT_CHECKPOINT_FILE": str(Path(folder) / "checkpoints.log"),
        }
        env.pop("DJANGO_SETTINGS_MODULE", None)
        worker = subprocess.Popen(
            [sys.executable, "manage.py", "db_worker", "--no-reload", "--no-startup-delay"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            rate = run_writers(url, WRITERS)
            backlog = unsealed_rows()
            began = time.perf_counter()
            while unsealed_rows():
                if time.perf_counter() - began > SEALED_WITHIN_S or worker.poll() is not None:
                    raise SystemExit("bench: the worker did not seal the audit rows")
                time.sleep(0.1)
            sealed_within = time.perf_counter() - began
        finally:
            worker.terminate()
            worker.wait(timeout=60)
            connection.close()
    return rate, backlog, sealed_within


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


def prepare(url: str) -> bool:
    """Migrate the bench database and add the writers' user; return whether rows are sealed."""
    setup_django(url)
    from django.core.management import call_command
    from django.db import connection

    from imsclinic.accounts.models import User
    from imsclinic.core import audit
    from imsclinic.core.roles import Role

    call_command("migrate", verbosity=0, interactive=False)
    User.objects.create_user(ACTOR_EMAIL, None, role=Role.PRACTITIONER)
    connection.close()
    return hasattr(audit, "seal_pending")


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
            sealed_design = prepare(url)
        rates = {}
        for name, count in (("one", 1), ("many", WRITERS)):
            with console.status(f"Audit writes: {count} writers for {SECONDS:g} s…"):
                rates[name] = run_writers(url, count)
        with console.status("Sealing and verifying the audit log…"):
            rows, verified, seal_rate = seal_and_verify()
        if sealed_design:
            with console.status(f"Audit writes: {WRITERS} writers beside the worker…"):
                beside = run_writers_beside_the_worker(url)
        # Last: bare rows have no place in a chain made as they are written.
        for name, count in (("bare_one", 1), ("bare_many", WRITERS)):
            with console.status(f"Bare rows: {count} writers for {SECONDS:g} s…"):
                rates[name] = run_writers(url, count, bare=True)
    finally:
        from django.db import connection

        connection.close()
        recreate_database(url, create=False)
    scaling = rates["many"] / rates["one"]
    figures = [
        ("audit_writes_seconds", SECONDS),
        ("audit_writers", WRITERS),
        ("audit_writes_1_per_s", rates["one"]),
        (f"audit_writes_{WRITERS}_per_s", rates["many"]),
        (f"audit_scaling_{WRITERS}_vs_1", scaling),
        ("audit_scaling_goal", "met" if scaling >= SCALING_GOAL else "missed"),
        ("audit_bare_writes_1_per_s", rates["bare_one"]),
        (f"audit_bare_writes_{WRITERS}_per_s", rates["bare_many"]),
        (f"audit_bare_scaling_{WRITERS}_vs_1", rates["bare_many"] / rates["bare_one"]),
    ]
    if sealed_design:
        rate, backlog, sealed_within = beside
        figures += [
            (f"audit_writes_{WRITERS}_sealing_per_s", rate),
            ("audit_unsealed_when_writers_stop", backlog),
            ("audit_sealed_within_s", sealed_within),
        ]
    figures += [
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
    mode = sys.argv[1:]
    if mode in (["--writer"], ["--bare-writer"]):
        sys.exit(writer(bare=mode == ["--bare-writer"]))
    sys.exit(main())
