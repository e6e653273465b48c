"""Fifty patients racing for one time through two separate server processes book it once.

The threads in test_booking_race share one Python process; here the rivals are two real
gunicorn servers, each with its own connections, against the test's PostgreSQL database.
Only the database's locks and constraints stand between them.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection

from imsclinic.accounts.models import User
from imsclinic.accounts.tokens import api_token_issue
from imsclinic.clinic.models import Location, Service
from imsclinic.core.roles import Role
from imsclinic.patients.models import Patient
from imsclinic.scheduling.models import ACTIVE_STATUSES, Appointment
from tests.factories.people import make_user
from tests.factories.scheduling import weekday_shifts

ROOT = Path(__file__).resolve().parents[3]
RIVALS = 50
SERVERS = 2
READY_WITHIN_S = 60.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def database_url_for_this_test() -> str:
    """Return a URL for the database this test is using (test_<name>, maybe with a suffix)."""
    settings = connection.settings_dict
    user = quote(settings["USER"] or "", safe="")
    password = quote(settings["PASSWORD"] or "", safe="")
    login = f"{user}:{password}@" if password else f"{user}@" if user else ""
    host = settings["HOST"] or "127.0.0.1"
    port = f":{settings['PORT']}" if settings["PORT"] else ""
    return f"postgres://{login}{host}{port}/{settings['NAME']}"


def wait_until_ready(base: str, server: subprocess.Popen[bytes]) -> None:
    """Poll the server's OpenAPI document until it answers, or fail with its output."""
    deadline = time.monotonic() + READY_WITHIN_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            output = server.stdout.read().decode() if server.stdout else ""
            pytest.fail(f"the server at {base} exited early:\n{output[-3000:]}")
        try:
            with urllib.request.urlopen(f"{base}/api/v1/openapi.json", timeout=2) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    pytest.fail(f"the server at {base} did not answer within {READY_WITHIN_S:.0f} s")


@pytest.fixture
def servers(transactional_db: None) -> Iterator[list[str]]:
    """Start two gunicorn processes on the test database; always stop them afterwards."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url_for_this_test(),
        "DEBUG": "1",
        "SECRET_KEY": "two-process-race-test-only",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_CONN_MAX_AGE": "0",
        "DJANGO_SETTINGS_MODULE": "imsclinic.settings",
    }
    started: list[subprocess.Popen[bytes]] = []
    bases = []
    try:
        for _ in range(SERVERS):
            port = free_port()
            started.append(
                subprocess.Popen(
                    [
                        str(Path(sys.executable).with_name("gunicorn")),
                        "imsclinic.wsgi:application",
                        "--bind",
                        f"127.0.0.1:{port}",
                        "--workers",
                        "1",
                        "--threads",
                        str(RIVALS // SERVERS),
                        "--timeout",
                        "60",
                    ],
                    cwd=ROOT,
                    env=env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                )
            )
            bases.append(f"http://127.0.0.1:{port}")
        for base, server in zip(bases, started, strict=True):
            wait_until_ready(base, server)
        yield bases
    finally:
        for server in started:
            server.terminate()
        for server in started:
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(timeout=10)
            if server.stdout:
                server.stdout.close()


def patients_with_tokens(count: int) -> list[str]:
    """Create `count` patients who may book online; return a bearer token for each."""
    tokens = []
    for number in range(count):
        user = make_user(f"rival{number}@patients.example", Role.PATIENT)
        Patient.objects.create(
            user=user,
            given_name=f"Rival{number}",
            family_name="Racer",
            date_of_birth=dt.date(1990, 1, 1),
        )
        _token, raw = api_token_issue(user=user, name="race", actor=None)
        tokens.append(raw)
    return tokens


def race_slot(location: Location) -> dt.datetime:
    """Return 10:00 local on a weekday three to nine days ahead: past notice, inside horizon."""
    day = dt.datetime.now(location.zone).date() + dt.timedelta(days=3)
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(10), tzinfo=location.zone)


def post(base: str, token: str, body: dict[str, object]) -> int:
    request = urllib.request.Request(
        f"{base}/api/v1/appointments",
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            status: int = answer.status
            return status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.mark.postgres
def test_fifty_patients_racing_through_two_server_processes_book_the_slot_once(
    servers: list[str], location: Location, physio: User, assessment: Service
) -> None:
    weekday_shifts(location, [physio], dt.date.today() - dt.timedelta(days=7))
    tokens = patients_with_tokens(RIVALS)
    start = race_slot(location)
    body = {
        "service": assessment.slug,
        "practitioner": physio.practitioner.pk,
        "start": start.isoformat(),
    }
    barrier = threading.Barrier(RIVALS)
    statuses: list[int] = []
    failures: list[BaseException] = []
    lock = threading.Lock()

    def attempt(number: int, token: str) -> None:
        try:
            barrier.wait(timeout=30)
            status = post(servers[number % SERVERS], token, body)
            with lock:
                statuses.append(status)
        except BaseException as error:
            with lock:
                failures.append(error)

    threads = [
        threading.Thread(target=attempt, args=(number, token))
        for number, token in enumerate(tokens)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    assert sorted(statuses) == [201] + [409] * (RIVALS - 1)
    booked = Appointment.objects.filter(status__in=ACTIVE_STATUSES)
    assert booked.count() == 1
    assert booked.get().start == start
