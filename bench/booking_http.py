"""Booking over HTTP against a bare insert, 8 clients at once, on PostgreSQL (issue 3, item 11).

`booking_vs_bare_ratio` is booking requests per second through the app (POST
/api/v1/appointments with a patient's bearer token) over requests per second to a bare Django
view that inserts the same row (bench/http_urls.py), both served by the same gunicorn server
and driven by the same 8 client threads. Run on its own with `python -m bench.booking_http`;
`python -m bench` runs it last. It needs PostgreSQL and says plainly when there is none.

It creates the database named by BENCH_HTTP_DATABASE_URL (default: the server of
TEST_POSTGRES_URL, DATABASE_URL or postgres://postgres@127.0.0.1:5432, database
imsclinic_httpbench), dropping any earlier one of that name, fills it with the scheduling
bench's clinic (bench/scheduling.py), runs both loads and drops it again.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

from bench.postgres import admin_connect, database_url, recreate_database

ROOT = Path(__file__).resolve().parent.parent
CLIENTS = 8
REQUESTS = int(os.environ.get("BENCH_HTTP_REQUESTS", "1200"))  # per run, over all clients
APPOINTMENTS = int(
    os.environ.get("BENCH_HTTP_APPOINTMENTS", os.environ.get("BENCH_APPOINTMENTS", "250000"))
)
# The server: 2 worker processes of 4 threads each (gthread), one per client; the same for
# both runs. Database connections persist across requests, as a production server's would.
WORKERS = 2
THREADS = 4
CONN_MAX_AGE = "60"
PATIENT_ACCOUNTS = 64
STRIDE = 40  # > the 20 practitioners' slots that can share one start (see spread)
WARM_UP = 2 * CLIENTS  # requests per run before the clock starts, not counted
READY_WITHIN_S = 60.0
DATABASE = "imsclinic_httpbench"
BOOKING_GOAL = 0.4


@dataclass
class Run:
    """One load: what each request answered and how long it took."""

    statuses: list[int] = field(default_factory=list)
    millis: list[float] = field(default_factory=list)
    seconds: float = 0.0

    def count(self, status: int) -> int:
        return self.statuses.count(status)

    @property
    def rps(self) -> float:
        return self.count(201) / self.seconds


def bench_database_url() -> str:
    """Return the URL of the database to build: on the test server unless told otherwise."""
    return database_url(DATABASE, override="BENCH_HTTP_DATABASE_URL")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def start_server(
    url: str,
    port: int,
    *,
    settings: str = "bench.http_settings",
    extra_env: dict[str, str] | None = None,
    log: IO[bytes] | None = None,
    extra_args: tuple[str, ...] = (),
    config: Path | None = None,
) -> subprocess.Popen[bytes]:
    """Start gunicorn (gthread, WORKERS x THREADS) with DEBUG off on the given database.

    With `config` (a gunicorn configuration file, as deployed) its workers and threads are
    the file's instead. Its output is read back by stop_server, or goes to `log` (a long run
    fills a pipe).
    """
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": settings,
        "DEBUG": "0",
        "SECRET_KEY": "booking-http-bench-only-" + "x" * 40,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "SECURE_COOKIES": "0",
        "SECURE_HSTS_SECONDS": "0",
        "DATABASE_CONN_MAX_AGE": CONN_MAX_AGE,
        "LOG_LEVEL": "WARNING",
        **(extra_env or {}),
    }
    workers = (
        ("--config", str(config))
        if config is not None
        else (
            "--worker-class",
            "gthread",
            "--workers",
            str(WORKERS),
            "--threads",
            str(THREADS),
            "--timeout",
            "120",
        )
    )
    return subprocess.Popen(
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "imsclinic.wsgi:application",
            *workers,
            "--bind",
            f"127.0.0.1:{port}",
            *extra_args,
        ],
        cwd=ROOT,
        env=env,
        stdout=log or subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def wait_until_ready(port: int, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + READY_WITHIN_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            output = server.stdout.read().decode() if server.stdout else ""
            raise SystemExit(f"bench: the server exited early:\n{output[-3000:]}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/api/v1/openapi.json")
            if conn.getresponse().status == 200:
                conn.close()
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"bench: the server did not answer within {READY_WITHIN_S:.0f} s")


def stop_server(server: subprocess.Popen[bytes]) -> str:
    server.terminate()
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait(timeout=15)
    output = server.stdout.read().decode(errors="replace") if server.stdout else ""
    if server.stdout:
        server.stdout.close()
    return output


def load(port: int, path: str, requests: list[tuple[dict[str, Any], str]]) -> Run:
    """Send the requests from CLIENTS threads, each on its own kept-alive connection."""
    run = Run()
    lock = threading.Lock()
    barrier = threading.Barrier(CLIENTS + 1)
    queue = iter(requests)
    failures: list[BaseException] = []

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        try:
            barrier.wait(timeout=30)
            while True:
                with lock:
                    item = next(queue, None)
                if item is None:
                    return
                body, token = item
                headers = {"Content-Type": "application/json"}
                if token:
                    headers["Authorization"] = f"Bearer {token}"
                began = time.perf_counter()
                conn.request("POST", path, body=json.dumps(body), headers=headers)
                answer = conn.getresponse()
                answer.read()
                took = (time.perf_counter() - began) * 1000
                with lock:
                    run.statuses.append(answer.status)
                    run.millis.append(took)
                if answer.getheader("Connection", "").lower() == "close":
                    conn.close()
        except BaseException as error:  # reported below; a dead client would skew the rate
            with lock:
                failures.append(error)
        finally:
            conn.close()

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    barrier.wait(timeout=30)
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    run.seconds = time.perf_counter() - began
    if failures:
        raise SystemExit(f"bench: a client failed: {failures[0]!r}")
    return run


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, round(share * len(ordered)) - 1)]


def spread(slots: list[Any]) -> list[Any]:
    """Order the slots so that requests in flight together never want the same time.

    Sorted by start, then taken with a stride of STRIDE places (more than all practitioners'
    slots at one start): eight neighbours in the queue are eight different 45-minute places.
    Two bookings at one location for the same time would race for the same free bed, and the
    loser answers 409 (see docs/PERFORMANCE.md); that race is not what this measures.
    """
    ordered = sorted(slots, key=lambda s: (s.start, s.practitioner_id))
    return [slot for first in range(STRIDE) for slot in ordered[first::STRIDE]]


def prepare(url: str, console: Any) -> dict[str, Any]:
    """Fill the bench database in this process; return the requests for both runs."""
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "imsclinic.settings")
    os.environ["DEBUG"] = "1"
    os.environ["BENCH_APPOINTMENTS"] = str(APPOINTMENTS)
    sys.path.insert(0, str(ROOT))
    import logging

    import django

    django.setup()
    logging.disable(logging.INFO)
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from bench import scheduling
    from imsclinic.accounts.models import User
    from imsclinic.accounts.tokens import api_token_issue
    from imsclinic.core.roles import Role
    from imsclinic.patients.models import Patient
    from imsclinic.scheduling.models import Appointment

    with console.status("Building the HTTP bench's PostgreSQL database…"):
        call_command("migrate", verbosity=0, interactive=False)
        call_command("createcachetable", verbosity=0)
    now = timezone.now()
    today = now.date()
    clinic = scheduling.build_clinic(today)
    days_back = max(
        int(
            (APPOINTMENTS - scheduling.places_per_day() * scheduling.FUTURE_DAYS)
            / scheduling.places_per_day()
        ),
        10,
    )
    days = [today + dt.timedelta(days=n) for n in range(-days_back, scheduling.FUTURE_DAYS)]
    began = time.perf_counter()
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task("Seeding…", total=APPOINTMENTS)
        seeded = scheduling.seed_days(clinic, days, "Seeding…", progress, task)
    seed_s = time.perf_counter() - began

    # Patients who book for themselves: accounts with tokens, on the care team of everyone
    # they have seen (as returning patients are), so a booking adds no care-team link.
    tokens: dict[int, str] = {}
    for patient in clinic.patients[:PATIENT_ACCOUNTS]:
        user = User.objects.create_user(
            f"bench.patient{patient.pk}@example.com", None, role=Role.PATIENT
        )
        Patient.objects.filter(pk=patient.pk).update(user=user)
        _token, tokens[patient.pk] = api_token_issue(user=user, name="bench", actor=None)
    pairs = (
        Appointment.objects.filter(patient_id__in=list(tokens))
        .values_list("patient_id", "practitioner_id")
        .distinct()
    )
    through = Patient.care_team.through
    through.objects.bulk_create(
        [through(patient_id=p, practitioner_id=q) for p, q in pairs], ignore_conflicts=True
    )

    need = REQUESTS + WARM_UP + 1  # one more kept back for counting queries
    first = today + dt.timedelta(days=scheduling.FUTURE_DAYS + 1)
    # Enough that every stride of spread() holds more places than there are clients.
    fetch = max(need, 2 * CLIENTS * STRIDE)
    with console.status(f"Finding {2 * fetch} free times…"):
        booking_slots = scheduling.free_places(clinic, first, now, fetch)
        last = max(slot.start.date() for slot in booking_slots)
        bare_slots = scheduling.free_places(clinic, last + dt.timedelta(days=1), now, fetch)
    if len(booking_slots) < fetch or len(bare_slots) < fetch:
        raise SystemExit("bench: not enough free times inside the horizon; lower the requests")
    patients = list(tokens)

    def requests(slots: list[Any], *, bare: bool) -> list[tuple[dict[str, Any], str]]:
        made = []
        # A patient is never booked into two visits at once: each time goes to the next
        # patient not already given an overlapping one in this list.
        held: dict[int, list[tuple[Any, Any]]] = {pk: [] for pk in patients}
        for n, slot in enumerate(spread(slots)[:need]):
            turn = [patients[(n + k) % len(patients)] for k in range(len(patients))]
            patient = next(
                candidate
                for candidate in turn
                if not any(start < slot.end and slot.start < end for start, end in held[candidate])
            )
            held[patient].append((slot.start, slot.end))
            body = {
                "service": clinic.service.slug,
                "practitioner": slot.practitioner_id,
                "location": slot.location_id,
                "patient": patient,
                "start": slot.start.isoformat(),
                # Only the bare view reads this: the API chooses a free bed itself.
                "room": clinic.beds[slot.practitioner_id],
            }
            made.append((body, "" if bare else tokens[patient]))
        return made

    booking = requests(booking_slots, bare=False)
    bare = requests(bare_slots, bare=True)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    connection.close()
    return {"booking": booking, "bare": bare, "seeded": seeded, "seed_s": seed_s}


def count_queries(
    booking: tuple[dict[str, Any], str], bare: tuple[dict[str, Any], str]
) -> tuple[int, int]:
    """Count the SQL one booking and one bare insert make, through the test client."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, override_settings, setup_test_environment

    setup_test_environment()
    counts = []
    with override_settings(ROOT_URLCONF="bench.http_urls"):
        for path, (body, token) in (
            ("/api/v1/appointments", booking),
            ("/bench/bare-insert/", bare),
        ):
            headers = {"authorization": f"Bearer {token}"} if token else {}
            client = Client(headers=headers)
            with CaptureQueriesContext(connection) as captured:
                answer = client.post(path, json.dumps(body), content_type="application/json")
            if answer.status_code != 201:
                raise SystemExit(f"bench: profiling {path} answered {answer.status_code}")
            counts.append(len(captured))
            if os.environ.get("BENCH_HTTP_SHOW_QUERIES"):
                for number, query in enumerate(captured.captured_queries, 1):
                    print(f"{path} query {number}: {query['sql'][:300]}", file=sys.stderr)
    connection.close()
    return counts[0], counts[1]


def main() -> int:
    from rich.console import Console

    console = Console(highlight=False, stderr=True)
    url = bench_database_url()
    try:
        admin_connect(url).close()
    except Exception as error:
        where = urlsplit(url).hostname or "localhost"
        print(f"booking_vs_bare_ratio: skipped (no PostgreSQL at {where}: {type(error).__name__})")
        return 0
    recreate_database(url, create=True)
    server: subprocess.Popen[bytes] | None = None
    try:
        plan = prepare(url, console)
        # One of each, kept back from the loads, for the query count at the end.
        kept_back = plan["booking"].pop(), plan["bare"].pop()
        port = free_port()
        server = start_server(url, port)
        wait_until_ready(port, server)
        runs: dict[str, Run] = {}
        for name, path in (("booking", "/api/v1/appointments"), ("bare", "/bench/bare-insert/")):
            todo = plan[name]
            with console.status(f"{name}: {len(todo)} requests from {CLIENTS} clients…"):
                warm = load(port, path, todo[:WARM_UP])
                if warm.count(201) != len(warm.statuses):
                    raise SystemExit(f"bench: warming up {path} answered {warm.statuses}")
                runs[name] = load(port, path, todo[WARM_UP:])
        output = stop_server(server)
        server = None
        booking_queries, bare_queries = count_queries(*kept_back)
    finally:
        if server is not None:
            output = stop_server(server)
        recreate_database(url, create=False)

    booking, bare = runs["booking"], runs["bare"]
    ratio = booking.rps / bare.rps
    figures: list[tuple[str, object]] = [
        ("http_appointments_seeded", plan["seeded"]),
        ("http_seed_s", plan["seed_s"]),
        ("http_clients", CLIENTS),
        ("http_server", f"gunicorn-gthread-{WORKERS}x{THREADS}"),
        ("booking_requests", len(booking.statuses)),
        ("booking_201", booking.count(201)),
        ("booking_409", booking.count(409)),
        ("booking_other", len(booking.statuses) - booking.count(201) - booking.count(409)),
        ("booking_rps", booking.rps),
        ("booking_p50_ms", statistics.median(booking.millis)),
        ("booking_p95_ms", percentile(booking.millis, 0.95)),
        ("booking_queries", booking_queries),
        ("bare_requests", len(bare.statuses)),
        ("bare_201", bare.count(201)),
        ("bare_other", len(bare.statuses) - bare.count(201)),
        ("bare_rps", bare.rps),
        ("bare_p50_ms", statistics.median(bare.millis)),
        ("bare_p95_ms", percentile(bare.millis, 0.95)),
        ("bare_queries", bare_queries),
        ("booking_vs_bare_ratio", ratio),
        ("booking_vs_bare_goal", "met" if ratio >= BOOKING_GOAL else "missed"),
    ]
    for name, value in figures:
        print(f"{name}: {value:.2f}" if isinstance(value, float) else f"{name}: {value}")
    errors = [line for line in output.splitlines() if "Traceback" in line or "ERROR" in line]
    if errors:
        console.print(f"bench: the server logged errors:\n{output[-3000:]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
