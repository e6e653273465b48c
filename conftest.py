"""Shared fixtures: the standard cast of people and a small clinic to act in."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection

from imsclinic.accounts.models import User
from imsclinic.clinic.models import Clinic, Location, OpeningHours, Room, Service
from imsclinic.core.roles import Role
from imsclinic.patients.models import Patient
from tests.factories import IN_CI
from tests.factories.mail import MailServer
from tests.factories.people import make_practitioner, make_user


def chromium_path() -> str | None:
    return (
        os.environ.get("CHROMIUM_PATH")
        or shutil.which("chromium")
        or shutil.which("chromium-browser")
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip browser tests with a reason when there is no Chromium; in CI, fail instead."""
    if chromium_path():
        return
    if IN_CI:
        raise pytest.UsageError(
            "CI requires Chromium for the browser tests; install Debian's chromium."
        )
    skip = pytest.mark.skip(
        reason="Chromium is not installed (apt-get install chromium); browser test skipped"
    )
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _postgres_only(request: pytest.FixtureRequest) -> None:
    if request.node.get_closest_marker("sqlite_pass") and connection.vendor == "postgresql":
        pytest.skip("runs in the SQLite pass; its PostgreSQL cases are marked postgres")
    if request.node.get_closest_marker("postgres") and connection.vendor != "postgresql":
        if IN_CI:
            pytest.fail(
                "CI requires PostgreSQL for this test; run with DATABASE_URL=postgres://..."
            )
        pytest.skip(
            "needs PostgreSQL: set DATABASE_URL=postgres://... (make test does when it answers)"
        )


@pytest.fixture(autouse=True, scope="session")
def _flush_may_empty_the_audit_log() -> Iterator[None]:
    """Let the flush that ends a transactional test empty the append-only audit tables."""
    from django.db.backends.base.operations import BaseDatabaseOperations

    from tests.factories.audit import audit_guards_lifted

    original = BaseDatabaseOperations.execute_sql_flush

    def execute_sql_flush(self: BaseDatabaseOperations, sql_list: list[str]) -> None:
        with audit_guards_lifted(self.connection):
            original(self, sql_list)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(BaseDatabaseOperations, "execute_sql_flush", execute_sql_flush)
        yield


@pytest.fixture(autouse=True)
def _own_audit_checkpoint_file(settings: Any, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Give each test a checkpoint file of its own, never the one beside the real database."""
    folder = tmp_path_factory.mktemp("checkpoints")
    settings.AUDIT_CHECKPOINT_FILE = folder / "audit-checkpoints.log"


@pytest.fixture(autouse=True)
def _site_url_is_the_live_server(request: pytest.FixtureRequest, settings: Any) -> None:
    """Links in emails point where the site is served: in browser tests, the live server."""
    if "live_server" in request.fixturenames:
        settings.SITE_URL = request.getfixturevalue("live_server").url


_DB_FIXTURES = frozenset(
    {
        "db",
        "transactional_db",
        "live_server",
        "django_db_reset_sequences",
        "django_db_serialized_rollback",
    }
)
_cache_table_made = False


@pytest.fixture(autouse=True)
def _empty_cache(request: pytest.FixtureRequest, django_db_blocker: object) -> None:
    """Give database tests the cache table, emptied, so rate limits never leak between tests."""
    global _cache_table_made
    if not (
        request.node.get_closest_marker("django_db") or _DB_FIXTURES & set(request.fixturenames)
    ):
        return
    from django.core.cache import cache
    from django.core.management import call_command

    request.getfixturevalue("django_db_setup")
    with django_db_blocker.unblock():  # type: ignore[attr-defined]
        if not _cache_table_made:
            call_command("createcachetable", verbosity=0)
            _cache_table_made = True
        cache.clear()
        # The muscle catalogue comes from a data migration; a transactional test (the
        # browser tests) empties every table when it ends, so put it back for the next one.
        from imsclinic.charting.models import Muscle
        from tests.factories.charting import ensure_catalogue

        if not Muscle.objects.exists():
            ensure_catalogue()


@pytest.fixture(autouse=True)
def _force_login_counts_as_a_full_sign_in(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let `client.force_login` stand for password *and* second factor, as a real sign-in.

    Tests of the sign-in itself go through the real allauth forms instead.
    """
    from django.test import Client

    from imsclinic.accounts.middleware import SESSION_MFA_PROVEN

    original = Client.force_login

    def force_login(self: Client, user: User, backend: str | None = None) -> None:
        original(self, user, backend)
        session = self.session
        session[SESSION_MFA_PROVEN] = True
        session.save()

    monkeypatch.setattr(Client, "force_login", force_login)


@pytest.fixture
def mail_server(monkeypatch: pytest.MonkeyPatch) -> MailServer:
    return MailServer(monkeypatch)


@pytest.fixture
def clinic(db: None) -> Clinic:
    return Clinic.objects.create(
        name="Cedar IMS Physiotherapy", email="hello@cedar.example", phone="604-555-0100"
    )


@pytest.fixture
def location(clinic: Clinic) -> Location:
    loc = Location.objects.create(
        clinic=clinic,
        name="Kitsilano",
        slug="kitsilano",
        address_line1="100 Example Ave",
        city="Vancouver",
        region="BC",
        postal_code="V6K 1A1",
        phone="604-555-0101",
        time_zone="America/Vancouver",
    )
    for day in range(5):
        OpeningHours.objects.create(location=loc, weekday=day, opens=dt.time(8), closes=dt.time(18))
    Room.objects.create(location=loc, name="Bed 1")
    return loc


@pytest.fixture
def ims_service(db: None) -> Service:
    return Service.objects.create(
        name="IMS follow-up",
        slug="ims-follow-up",
        duration_minutes=30,
        price=Decimal("95.00"),
        requires_ims_credential=True,
    )


@pytest.fixture
def assessment(db: None) -> Service:
    """The IMS initial assessment: an hour, ten minutes' buffer, for new patients."""
    return Service.objects.create(
        name="IMS initial assessment",
        slug="ims-initial-assessment",
        duration_minutes=60,
        buffer_minutes=10,
        price=Decimal("150.00"),
        requires_ims_credential=True,
        for_new_patients=True,
    )


@pytest.fixture
def owner(db: None) -> User:
    return make_user("owner@cedar.example", Role.OWNER, first="Olive", last="Owner")


@pytest.fixture
def front_desk(db: None) -> User:
    return make_user("desk@cedar.example", Role.FRONT_DESK, first="Frank", last="Desk")


@pytest.fixture
def physio(location: Location) -> User:
    """The treating practitioner: on the patient's care team."""
    user = make_user("physio@cedar.example", Role.PRACTITIONER, first="Tara", last="Treating")
    make_practitioner(user, location, "tara-treating", "PT-1001")
    return user


@pytest.fixture
def other_physio(location: Location) -> User:
    """A practitioner who is not on the patient's care team."""
    user = make_user("other.physio@cedar.example", Role.PRACTITIONER, first="Oscar", last="Other")
    make_practitioner(user, location, "oscar-other", "PT-1002")
    return user


@pytest.fixture
def patient_user(db: None) -> User:
    return make_user("pat@patients.example", Role.PATIENT, first="Pat", last="Ient")


@pytest.fixture
def patient(patient_user: User, physio: User) -> Patient:
    """The patient, with the treating physio on their care team."""
    record = Patient.objects.create(
        user=patient_user,
        given_name="Pat",
        family_name="Ient",
        date_of_birth=dt.date(1980, 4, 2),
        phone="(604) 555-0199",
        email="pat@patients.example",
    )
    record.care_team.add(physio.practitioner)
    return record


@pytest.fixture
def other_patient_user(db: None) -> User:
    return make_user("other@patients.example", Role.PATIENT, first="Otto", last="Osborne")


@pytest.fixture
def other_patient(other_patient_user: User) -> Patient:
    return Patient.objects.create(
        user=other_patient_user,
        given_name="Otto",
        family_name="Osborne",
        date_of_birth=dt.date(1975, 1, 9),
        phone="250-555-0123",
    )


@pytest.fixture
def cast(
    patient_user: User,
    other_patient_user: User,
    front_desk: User,
    physio: User,
    other_physio: User,
    owner: User,
    patient: Patient,
    other_patient: Patient,
) -> dict[str, User | None]:
    """The standard cast, by name, with None for an anonymous visitor."""
    return {
        "anonymous": None,
        "patient": patient_user,
        "other_patient": other_patient_user,
        "front_desk": front_desk,
        "physio": physio,
        "other_physio": other_physio,
        "owner": owner,
    }


BROWSER_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="session")
def chromium():
    """Launch Debian's Chromium once per test session through Playwright."""
    path = chromium_path()
    if path is None:
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    # Playwright's sync API runs an event loop in this thread; the ORM calls the tests
    # make around it are still plain synchronous calls.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=BROWSER_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium, live_server):
    """A fresh browser tab (its own cookies) pointed at the live test server."""
    context = chromium.new_context(base_url=live_server.url, viewport={"width": 390, "height": 844})
    tab = context.new_page()
    yield tab
    context.close()
