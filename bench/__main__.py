"""Time the patient search (page and API), the audit chain, slot search and booking.

Run with `make bench`. Prints figures and their ratio to the budget we hold ourselves to;
it never fails a build. The scheduling figures (bench/scheduling.py, docs/PERFORMANCE.md)
come as `name: value` lines; BENCH_APPOINTMENTS sets the size of the clinic's history, and
BENCH_BILLING_INVOICES that of the invoices behind the billing reports (bench/billing.py).
BENCH_DATABASE_URL points it at another database (for example an empty PostgreSQL one);
by default it builds a temporary SQLite file and removes it. Last, when PostgreSQL answers,
audited transactions a second with one and eight writers (bench/audit_writes.py) and
`booking_vs_bare_ratio` over HTTP (bench/booking_http.py) are measured on PostgreSQL.
"""

from __future__ import annotations

import logging
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Read before prepare_environment() points DATABASE_URL at the throwaway database.
GIVEN_DATABASE_URL = os.environ.get("DATABASE_URL")
PATIENTS = int(os.environ.get("BENCH_PATIENTS", "2000"))
SEARCHES = 50
AUDIT_ROWS = 2000
# Budgets on a 2-core machine. A search should feel instant at the desk; the number of
# queries must not grow with the page (no N+1). Each audit row is its own transaction,
# and a clinic writes a few a second at most; the worker must seal far faster than that;
# verifying must get through a busy year's log (about a million rows) in a few minutes.
SEARCH_P95_BUDGET_MS = 250.0
QUERIES_BUDGET = 15
WRITE_FLOOR_ROWS_PER_S = 100.0
SEAL_FLOOR_ROWS_PER_S = 1_000.0
VERIFY_FLOOR_ROWS_PER_S = 5_000.0


@dataclass
class Timing:
    label: str
    millis: list[float]
    queries: list[int]

    @property
    def median(self) -> float:
        return statistics.median(self.millis)

    @property
    def p95(self) -> float:
        ordered = sorted(self.millis)
        return ordered[max(0, round(0.95 * len(ordered)) - 1)]


def prepare_environment() -> Path | None:
    """Point Django at a fresh database before it loads; return the folder to clean up."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "imsclinic.settings")
    os.environ.setdefault("DEBUG", "1")
    url = os.environ.get("BENCH_DATABASE_URL")
    if url:
        os.environ["DATABASE_URL"] = url
        return None
    folder = Path(tempfile.mkdtemp(prefix="imsclinic-bench-"))
    os.environ["DATABASE_URL"] = f"sqlite:///{folder / 'bench.sqlite3'}"
    return folder


def main() -> int:
    folder = prepare_environment()
    try:
        status = run()
    finally:
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
    return (
        status
        or run_postgres_part("audit_writes", "BENCH_AUDIT", "audit_writes_1_per_s")
        or run_postgres_part("booking_http", "BENCH_HTTP", "booking_vs_bare_ratio")
    )


def run_postgres_part(module: str, switch: str, first_figure: str) -> int:
    """Run bench/<module>.py (PostgreSQL only) in a process of its own; `switch`=0 leaves it out.

    Each needs its own Django setup (another database, for booking over HTTP another URLconf).
    """
    if os.environ.get(switch, "1") == "0":
        print(f"{first_figure}: skipped ({switch}=0)")
        return 0
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    # These parts find their PostgreSQL server from DATABASE_URL (bench/postgres.py).
    given = os.environ.get("BENCH_DATABASE_URL") or GIVEN_DATABASE_URL
    if given:
        env["DATABASE_URL"] = given
    else:
        env.pop("DATABASE_URL", None)
    sys.stdout.flush()
    return subprocess.run([sys.executable, "-m", f"bench.{module}"], cwd=ROOT, env=env).returncode


def run() -> int:
    import django

    django.setup()
    from django.core.management import call_command
    from django.test.utils import setup_test_environment
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False, width=max(110, shutil.get_terminal_size().columns))
    logging.disable(logging.INFO)  # the token service logs each issue; not news here
    started = time.monotonic()
    setup_test_environment()  # lets the test Client's host through ALLOWED_HOSTS
    with console.status("Building the database…"):
        call_command("migrate", verbosity=0, interactive=False)
        call_command("createcachetable", verbosity=0)
    with console.status(f"Inventing {PATIENTS} patients…"):
        desk, samples = seed(PATIENTS)

    timings = [
        time_requests(console, desk, "page", "name", samples["name"]),
        time_requests(console, desk, "page", "phone", samples["phone"]),
        time_requests(console, desk, "page", "date of birth", samples["dob"]),
    ]
    api = api_client(desk)
    if api is not None:
        timings.append(time_requests(console, desk, "api", "name", samples["name"], api))

    table = Table(title=f"Patient search over {PATIENTS} patients, {SEARCHES} searches each")
    columns = ("what", "median ms", "p95 ms", "p95 / budget", "queries", "max queries / budget")
    for column in columns:
        table.add_column(column, justify="left" if column == "what" else "right")
    for timing in timings:
        most = max(timing.queries)
        table.add_row(
            timing.label,
            f"{timing.median:.1f}",
            f"{timing.p95:.1f}",
            f"{timing.p95 / SEARCH_P95_BUDGET_MS:.2f}",
            f"{statistics.mean(timing.queries):.1f} (max {most})",
            f"{most / QUERIES_BUDGET:.2f}",
        )
    console.print(table)

    write_rate, seal_rate, verify_rate, verified = time_audit_chain(console)
    chain = Table(title="Audit chain")
    for column in ("what", "rows", "rows/s", "floor rows/s", "rate / floor"):
        chain.add_column(column, justify="left" if column == "what" else "right")
    chain.add_row(
        "audit_record (one transaction each)",
        str(AUDIT_ROWS),
        f"{write_rate:,.0f}",
        f"{WRITE_FLOOR_ROWS_PER_S:,.0f}",
        f"{write_rate / WRITE_FLOOR_ROWS_PER_S:.2f}",
    )
    chain.add_row(
        "seal_pending (all rows written)",
        str(verified),
        f"{seal_rate:,.0f}",
        f"{SEAL_FLOOR_ROWS_PER_S:,.0f}",
        f"{seal_rate / SEAL_FLOOR_ROWS_PER_S:.2f}",
    )
    chain.add_row(
        "verify_chain (whole log)",
        str(verified),
        f"{verify_rate:,.0f}",
        f"{VERIFY_FLOOR_ROWS_PER_S:,.0f}",
        f"{verify_rate / VERIFY_FLOOR_ROWS_PER_S:.2f}",
    )
    console.print(chain)
    console.print(
        "Ratios: for times and queries lower is better (under 1 is within budget); "
        "for rates higher is better (over 1 beats the floor)."
    )
    from bench.scheduling import run_scheduling

    figures = run_scheduling(console)
    for name, value in figures.lines:
        print(f"{name}: {value}")  # plain lines that scripts and tests parse
    found = dict(figures.lines)
    from bench.chart import run_chart

    for name, value in run_chart(console):
        print(f"{name}: {value}")
    from bench.billing import run_billing

    for name, value in run_billing(console):
        print(f"{name}: {value}")

    slowest = max(timings, key=lambda t: t.p95)
    console.print(
        f"bench: search p95 {slowest.p95:.1f} ms at worst ({slowest.label}), "
        f"audit verify {verify_rate:,.0f} rows/s, "
        f"availability {found['availability_ms']} ms over {found['appointments_seeded']} "
        f"appointments, in-process booking/bare {found['inprocess_booking_vs_bare_ratio']}, "
        f"in {time.monotonic() - started:.0f} s "
        f"on {os.environ['DATABASE_URL'].split(':', 1)[0]}."
    )
    return 0


def seed(count: int) -> tuple[object, dict[str, list[str]]]:
    """Create a front-desk user and `count` invented patients; return search terms to use."""
    import datetime as dt

    from allauth.mfa.models import Authenticator
    from faker import Faker

    from imsclinic.accounts.models import User
    from imsclinic.core.roles import Role
    from imsclinic.patients.models import Patient

    fake = Faker("en_CA")
    fake.seed_instance(4242)
    desk = User.objects.create_user("bench.desk@example.com", None, role=Role.FRONT_DESK)
    # The MFA middleware only asks that an authenticator exists; the bench signs in directly.
    Authenticator.objects.create(
        user=desk, type=Authenticator.Type.TOTP, data={"secret": "JBSWY3DPEHPK3PXP"}
    )
    patients = []
    for index in range(count):
        phone = f"604-555-{index % 100:02d}{index // 100 % 100:02d}"
        patients.append(
            Patient(
                given_name=fake.first_name(),
                family_name=fake.last_name(),
                date_of_birth=fake.date_between_dates(dt.date(1940, 1, 1), dt.date(2010, 1, 1)),
                phone=phone,
                phone_digits="".join(ch for ch in phone if ch.isdigit()),
                email=f"bench{index}@example.com",
            )
        )
    Patient.objects.bulk_create(patients, batch_size=500)
    picked = patients[:: max(1, count // SEARCHES)][:SEARCHES]
    return desk, {
        "name": [p.family_name[:4] for p in picked],
        "phone": [p.phone_digits[-6:] for p in picked],
        "dob": [p.date_of_birth.isoformat() for p in picked],
    }


def api_client(desk: object) -> Callable[[str], object] | None:
    """Return a function that searches through the API with a bearer token, if there is one."""
    try:
        from imsclinic.accounts.tokens import api_token_issue
    except ImportError:
        return None
    from django.test import Client

    _, raw = api_token_issue(user=desk, name="bench", actor=desk)  # type: ignore[arg-type]
    client = Client(headers={"authorization": f"Bearer {raw}"})
    return lambda term: client.get("/api/v1/patients", {"search": term})


def time_requests(
    console: object,
    desk: object,
    kind: str,
    by: str,
    terms: list[str],
    call: Callable[[str], object] | None = None,
) -> Timing:
    """Time one search per term as the front desk; count the queries each one makes."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    if call is None:
        from imsclinic.accounts.middleware import SESSION_MFA_PROVEN

        client = Client()
        client.force_login(desk)  # type: ignore[arg-type]
        # force_login stands for the password; the front desk also proved a second factor.
        session = client.session
        session[SESSION_MFA_PROVEN] = True
        session.save()

        def call(term: str) -> object:
            return client.get("/staff/patients/", {"q": term})

    call(terms[0])  # warm up templates and connections
    millis: list[float] = []
    queries: list[int] = []
    for term in terms:
        with CaptureQueriesContext(connection) as captured:
            began = time.perf_counter()
            response = call(term)
            millis.append((time.perf_counter() - began) * 1000)
        status = getattr(response, "status_code", 0)
        if status != 200:
            raise SystemExit(f"bench: {kind} search for {term!r} answered {status}")
        queries.append(len(captured))
    return Timing(f"{kind}: by {by}", millis, queries)


def time_audit_chain(console: object) -> tuple[float, float, float, int]:
    """Write AUDIT_ROWS rows one by one, seal them, verify the whole chain; return the rates."""
    from imsclinic.core.audit import ChainBreak, audit_record, seal_pending, verify_chain
    from imsclinic.core.models import Action, AuditEvent

    began = time.perf_counter()
    for index in range(AUDIT_ROWS):
        audit_record(
            actor=None,
            action=Action.VIEW,
            object_type="bench",
            object_id=index,
            detail={"n": index},
        )
    write_rate = AUDIT_ROWS / (time.perf_counter() - began)

    began = time.perf_counter()
    sealed = seal_pending()
    seal_rate = sealed / (time.perf_counter() - began)

    began = time.perf_counter()
    verified = 0
    for item in verify_chain():
        if isinstance(item, ChainBreak):
            raise SystemExit(f"bench: the audit chain broke at row {item.event_id}: {item.reason}")
        verified += 1
    verify_rate = verified / (time.perf_counter() - began)
    written = AuditEvent.objects.count()  # the searches above wrote theirs too
    if verified != written:
        raise SystemExit(f"bench: {written} audit rows written, {verified} in the chain")
    return write_rate, seal_rate, verify_rate, verified


if __name__ == "__main__":
    sys.exit(main())
