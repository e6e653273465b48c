"""Time the busiest staff pages one request at a time over the five-year scheduling clinic.

`python -m bench.staff_pages` needs an EMPTY database in `BENCH_PAGES_DATABASE_URL` (or
`DATABASE_URL`) the first time: it migrates it, lays down the bench's scheduling clinic
(`bench.scheduling`, BENCH_APPOINTMENTS appointments), a practitioner's course of 60 signed
sessions (`bench.chart.seed_course`) and the people who open the pages, then times each page.
Run again on the same database, it only times (set BENCH_PAGES_RESEED=1 to start over).

Each page is requested through the test client with a signed-in session, the audit rows and
the template, `BENCH_PAGES_REQUESTS` times (default 15) after a warm-up. For each it prints the
median wall time, the part of it spent waiting on SQL (timed around every statement), the
rest (Python: views, templates, middleware), the CPU time of this process (the Python part
without the waits, steadier than wall time on a busy machine) and the number of queries.
`BENCH_PAGES_PROFILE=1` also prints the top of a cProfile of one request per page to stderr,
by cumulative time (`BENCH_PAGES_PROFILE=tottime`: by each function's own time, 60 lines);
`BENCH_PAGES_ONLY=calendar_week,chart_60` times only those pages.
"""

from __future__ import annotations

import cProfile
import datetime as dt
import io
import os
import pstats
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
REQUESTS = int(os.environ.get("BENCH_PAGES_REQUESTS", "15"))
CHART_SESSIONS = 60
MARKER = "bench.pages.owner@example.com"


class _Quiet:
    """Stand in for rich's progress bar while seeding."""

    def update(self, *args: Any, **kwargs: Any) -> None:
        pass


def _user(email: str, role: str) -> Any:
    from allauth.mfa.models import Authenticator

    from imsclinic.accounts.models import User

    user = User.objects.create_user(email, None, role=role, first_name="Bench", last_name=role)
    Authenticator.objects.create(
        user=user, type=Authenticator.Type.TOTP, data={"secret": "JBSWY3DPEHPK3PXP"}
    )
    return user


def seed() -> None:
    """Lay down the clinic, its history, a long course of care and the page's viewers."""
    from django.db import connection
    from django.utils import timezone

    from bench.chart import seed_course
    from bench.scheduling import APPOINTMENTS, FUTURE_DAYS, build_clinic, places_per_day, seed_days
    from imsclinic.clinic.models import NeedleLot, Practitioner
    from imsclinic.core.roles import Role
    from imsclinic.scheduling.models import Appointment

    today = timezone.now().date()
    clinic = build_clinic(today)
    future = [today + dt.timedelta(days=n) for n in range(FUTURE_DAYS)]
    history_days = max(int((APPOINTMENTS - places_per_day() * FUTURE_DAYS) / places_per_day()), 10)
    past = [today - dt.timedelta(days=n) for n in range(1, history_days + 1)]
    began = time.perf_counter()
    rows = seed_days(clinic, future + past, "", _Quiet(), None)
    print(f"seeded {rows} appointments in {time.perf_counter() - began:.0f} s", file=sys.stderr)
    _user(MARKER, Role.OWNER)
    practitioner = clinic.practitioners[0]
    practitioner.user = _user("bench.pages.physio@example.com", Role.PRACTITIONER)
    practitioner.save(update_fields=["user"])
    # The practitioner's own patients: everyone they have seen, as booking would have made it.
    seen = set(
        Appointment.objects.filter(practitioner=practitioner).values_list("patient_id", flat=True)
    )
    for patient in clinic.patients:
        if patient.pk in seen:
            patient.care_team.add(practitioner)
    # A long course of care with a practitioner of its own, so it never meets the grid.
    charting = _user("bench.pages.chart@example.com", Role.PRACTITIONER)
    location = clinic.locations[practitioner.pk]
    own = Practitioner.objects.create(
        user=charting,
        first_name="Bea",
        last_name="Chart",
        slug="bench-pages-chart",
        ims_certified_on=dt.date(2012, 1, 1),
    )
    own.locations.add(location)
    patient = clinic.patients[-1]
    patient.care_team.add(own)
    lot = NeedleLot.objects.create(
        lot_number="BENCH-PAGES",
        manufacturer="Bench Needles",
        diameter_mm=Decimal("0.30"),
        length_mm=40,
        expires_on=today + dt.timedelta(days=700),
        quantity_received=1000,
        received_on=today,
    )
    seed_course(patient, charting, clinic.service, lot, sessions=CHART_SESSIONS)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


@contextmanager
def sql_timer() -> Iterator[list[float]]:
    """Collect the wall time of every statement run inside, in seconds."""
    from django.db import connection

    spent: list[float] = []

    def wrapper(
        execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any
    ) -> Any:
        began = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            spent.append(time.perf_counter() - began)

    with connection.execute_wrapper(wrapper):
        yield spent


def client_for(email: str) -> Any:
    from django.test import Client

    from imsclinic.accounts.middleware import SESSION_MFA_PROVEN
    from imsclinic.accounts.models import User

    client = Client()
    client.force_login(User.objects.get(email=email))
    session = client.session
    session[SESSION_MFA_PROVEN] = True
    session.save()
    return client


def pages() -> list[tuple[str, str, str]]:
    """Return (name, viewer's email, url) for each page timed."""
    from django.utils import timezone

    from imsclinic.charting.models import NeedlingSession
    from imsclinic.clinic.models import Location

    location = Location.objects.order_by("pk").first()
    assert location is not None
    today = timezone.now().astimezone(location.zone).date()
    # A weekday in the coming week, when every practitioner works and the day is full.
    day = today + dt.timedelta(days=1)
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    chart_patient = NeedlingSession.objects.values_list("patient_id", flat=True).first()
    where = f"location={location.pk}&date={day.isoformat()}"
    return [
        ("calendar_day", "bench.scheduling@example.com", f"/staff/calendar/?{where}"),
        ("calendar_week", "bench.scheduling@example.com", f"/staff/calendar/week/?{where}"),
        ("calendar_mine", "bench.pages.physio@example.com", f"/staff/calendar/mine/?date={day}"),
        ("chart_60", "bench.pages.chart@example.com", f"/staff/patients/{chart_patient}/chart/"),
        ("screening_queue", MARKER, "/staff/screening/"),
    ]


def time_page(client: Any, url: str) -> tuple[float, float, float, int, int]:
    """Return median wall ms, SQL ms and CPU ms, queries and bytes of `url` over REQUESTS."""
    response = client.get(url)
    if response.status_code != 200:
        raise SystemExit(f"bench: {url} answered {response.status_code}")
    walls, sqls, cpus, counts = [], [], [], []
    for _ in range(REQUESTS):
        with sql_timer() as spent:
            began, cpu = time.perf_counter(), time.process_time()
            response = client.get(url)
            walls.append((time.perf_counter() - began) * 1000)
            cpus.append((time.process_time() - cpu) * 1000)
        sqls.append(sum(spent) * 1000)
        counts.append(len(spent))
    median = statistics.median
    return median(walls), median(sqls), median(cpus), max(counts), len(response.content)


def profile(client: Any, url: str, order: str) -> str:
    profiler = cProfile.Profile()
    profiler.enable()
    client.get(url)
    profiler.disable()
    out = io.StringIO()
    by_own_time = order == "tottime"
    pstats.Stats(profiler, stream=out).sort_stats(
        "tottime" if by_own_time else "cumulative"
    ).print_stats(60 if by_own_time else 30)
    return out.getvalue()


def main() -> int:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "imsclinic.settings")
    url = os.environ.get("BENCH_PAGES_DATABASE_URL")
    if url:
        os.environ["DATABASE_URL"] = url
    import django

    django.setup()
    from django.core.management import call_command

    from imsclinic.accounts.models import User

    call_command("migrate", verbosity=0)
    # Pages name their static files through the manifest, as in production.
    call_command("collectstatic", interactive=False, verbosity=0)
    if (
        os.environ.get("BENCH_PAGES_RESEED") == "1"
        or not User.objects.filter(email=MARKER).exists()
    ):
        seed()
    only = {name for name in os.environ.get("BENCH_PAGES_ONLY", "").split(",") if name}
    order = os.environ.get("BENCH_PAGES_PROFILE", "")
    for name, email, page in pages():
        if only and name not in only:
            continue
        client = client_for(email)
        wall, sql, cpu, queries, size = time_page(client, page)
        print(
            f"{name}: wall_ms={wall:.1f} sql_ms={sql:.1f} python_ms={wall - sql:.1f} "
            f"cpu_ms={cpu:.1f} queries={queries} bytes={size}"
        )
        if order:
            print(f"--- {name}\n{profile(client, page, order)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
