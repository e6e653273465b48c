"""A deadlock or lock timeout is run again; one that stays answers 409 or 503, never 500.

PostgreSQL's refusals are simulated here (the same `OperationalError` with the driver's error as
its cause that Django raises), so these run on SQLite too; test_concurrent_use.py meets the
real ones.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import psycopg.errors
import pytest
from django.db import IntegrityError, OperationalError, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from imsclinic.accounts.models import User
from imsclinic.accounts.tokens import api_token_issue
from imsclinic.clinic.models import Location, Service
from imsclinic.core import locking
from imsclinic.core.locking import ATTEMPTS, RETRY_AFTER_SECONDS, is_transient, retry_transient
from imsclinic.core.models import AuditEvent
from imsclinic.patients.models import Patient
from imsclinic.scheduling.models import Appointment, AppointmentStatus, Shift
from imsclinic.scheduling.services import booking as booking_services
from imsclinic.scheduling.services.booking import SlotTaken, appointment_book, appointment_cancel
from imsclinic.scheduling.templatetags import scheduling_tags
from tests.factories import VANCOUVER
from tests.factories.scheduling import weekday_shifts

NOTICE_TASK = "imsclinic.scheduling.tasks.send_appointment_notice"


def refusal(kind: type[Exception] = psycopg.errors.DeadlockDetected) -> OperationalError:
    """Return the error Django raises when PostgreSQL gives up on a transaction this way."""
    error = OperationalError("the database gave up on this transaction")
    error.__cause__ = kind("simulated")
    return error


class Flaky:
    """Stand in for a function: raise `refusal()` for the first `failures` calls, then pass on."""

    def __init__(self, real: Callable[..., Any], failures: int, **refusal_args: Any) -> None:
        self.real = real
        self.failures = failures
        self.calls = 0
        self.refusal_args = refusal_args

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        if self.calls <= self.failures:
            raise refusal(**self.refusal_args)
        return self.real(*args, **kwargs)


@pytest.fixture(autouse=True)
def _no_pause(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(locking, "BACKOFF_SECONDS", 0.0)


# --- which failures are worth another try -------------------------------------------------------


@pytest.mark.parametrize(
    "kind",
    [
        psycopg.errors.DeadlockDetected,
        psycopg.errors.SerializationFailure,
        psycopg.errors.LockNotAvailable,
    ],
)
def test_deadlocks_serialization_failures_and_lock_timeouts_are_transient(kind) -> None:
    assert is_transient(refusal(kind))


def test_other_database_failures_are_not_transient() -> None:
    assert not is_transient(refusal(psycopg.errors.AdminShutdown))
    assert not is_transient(OperationalError("no such table"))
    constraint = IntegrityError("duplicate key")
    constraint.__cause__ = psycopg.errors.UniqueViolation("simulated")
    assert not is_transient(constraint)


def test_a_transaction_refused_once_runs_again_and_succeeds() -> None:
    flaky = Flaky(lambda: "done", failures=ATTEMPTS - 1)
    assert retry_transient()(flaky)() == "done"
    assert flaky.calls == ATTEMPTS


def test_a_transaction_refused_every_time_gives_up_after_the_last_attempt() -> None:
    flaky = Flaky(lambda: "done", failures=ATTEMPTS)
    with pytest.raises(OperationalError):
        retry_transient()(flaky)()
    assert flaky.calls == ATTEMPTS
    again = Flaky(lambda: "done", failures=ATTEMPTS)
    with pytest.raises(SlotTaken):
        retry_transient(conflict=SlotTaken)(again)()


def test_another_database_failure_is_not_run_again() -> None:
    flaky = Flaky(lambda: "done", failures=1, kind=psycopg.errors.AdminShutdown)
    with pytest.raises(OperationalError):
        retry_transient(conflict=SlotTaken)(flaky)()
    assert flaky.calls == 1


@pytest.mark.django_db
def test_inside_a_callers_transaction_the_caller_decides() -> None:
    # Its transaction is broken; only whoever opened it can run it again.
    flaky = Flaky(lambda: "done", failures=1)
    with pytest.raises(OperationalError), transaction.atomic():
        retry_transient(conflict=SlotTaken)(flaky)()
    assert flaky.calls == 1


# --- the services: run again in full, written once ---------------------------------------------


@pytest.fixture
def shifts(location: Location, physio: User, other_physio: User) -> list[Shift]:
    """Both physios work weekdays 09:00-17:00 with lunch, from last month (real time here)."""
    return weekday_shifts(location, [physio, other_physio], timezone.localdate() - dt.timedelta(30))


def ten_oclock(days_ahead: int = 4) -> dt.datetime:
    day = timezone.now().astimezone(VANCOUVER).date() + dt.timedelta(days=days_ahead)
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(10), tzinfo=VANCOUVER)


def book(patient: Patient, physio: User, service: Service, actor: User) -> Appointment:
    return appointment_book(
        patient=patient,
        practitioner=physio.practitioner,
        service=service,
        location=physio.practitioner.locations.get(),
        start=ten_oclock(),
        actor=actor,
    )


def notices() -> int:
    return DBTaskResult.objects.filter(task_path=NOTICE_TASK).count()


@pytest.mark.django_db(transaction=True)
def test_a_booking_deadlocked_once_is_booked_audited_and_announced_once(
    monkeypatch, patient, physio, front_desk, assessment, shifts
) -> None:
    flaky = Flaky(booking_services.audit_record, failures=1)
    monkeypatch.setattr(booking_services, "audit_record", flaky)
    visit = book(patient, physio, assessment, front_desk)
    assert flaky.calls == 2  # the first attempt's row went with its rollback
    assert list(Appointment.objects.values_list("pk", flat=True)) == [visit.pk]
    assert AuditEvent.objects.filter(object_type="appointment", action="create").count() == 1
    assert notices() == 1


@pytest.mark.django_db(transaction=True)
def test_a_cancellation_deadlocked_once_is_cancelled_audited_and_announced_once(
    monkeypatch, patient, physio, front_desk, assessment, shifts
) -> None:
    visit = book(patient, physio, assessment, front_desk)
    flaky = Flaky(booking_services.audit_record, failures=1)
    monkeypatch.setattr(booking_services, "audit_record", flaky)
    appointment_cancel(appointment=visit, actor=front_desk, reason="Unwell")
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.CANCELLED
    assert AuditEvent.objects.filter(object_type="appointment", action="update").count() == 1
    assert notices() == 2  # the confirmation and one cancellation


# --- what is left over: 409 or 503, never 500 ------------------------------------------------


def api_client(user: User) -> Client:
    _token, raw = api_token_issue(user=user, name="tests", actor=None)
    return Client(headers={"Authorization": f"Bearer {raw}"})


@pytest.mark.django_db(transaction=True)
def test_the_api_answers_409_for_a_booking_that_keeps_deadlocking(
    monkeypatch, patient, physio, front_desk, assessment, shifts
) -> None:
    flaky = Flaky(booking_services.audit_record, failures=ATTEMPTS)
    monkeypatch.setattr(booking_services, "audit_record", flaky)
    response = api_client(front_desk).post(
        "/api/v1/appointments",
        {
            "service": assessment.slug,
            "practitioner": physio.practitioner.pk,
            "patient": patient.pk,
            "start": ten_oclock().isoformat(),
        },
        content_type="application/json",
    )
    assert response.status_code == 409
    assert response.json()["detail"] == "That time was just taken."
    assert flaky.calls == ATTEMPTS
    assert not Appointment.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_api_answers_503_with_retry_after_for_a_cancellation_that_keeps_failing(
    monkeypatch, patient, physio, front_desk, assessment, shifts
) -> None:
    visit = book(patient, physio, assessment, front_desk)
    flaky = Flaky(
        booking_services.audit_record, failures=ATTEMPTS, kind=psycopg.errors.LockNotAvailable
    )
    monkeypatch.setattr(booking_services, "audit_record", flaky)
    response = api_client(front_desk).post(
        f"/api/v1/appointments/{visit.pk}/cancel", {}, content_type="application/json"
    )
    assert response.status_code == 503
    assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert response.json() == {
        "detail": "The clinic's system is busy: your request was not carried out. Please try again."
    }
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.BOOKED


@pytest.mark.django_db(transaction=True)
def test_the_booking_page_says_the_time_was_taken_when_the_database_keeps_deadlocking(
    monkeypatch, client, patient, patient_user, physio, location, assessment, shifts
) -> None:
    flaky = Flaky(booking_services.audit_record, failures=ATTEMPTS)
    monkeypatch.setattr(booking_services, "audit_record", flaky)
    client.force_login(patient_user)
    form = {
        "service": assessment.slug,
        "practitioner": str(physio.practitioner.pk),
        "location": str(location.pk),
        "start": ten_oclock().isoformat(),
    }
    response = client.post(reverse("portal_book_confirm"), form)
    assert response.status_code == 409
    assert "That time was just taken" in response.content.decode()
    assert flaky.calls == ATTEMPTS
    assert not Appointment.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_cancel_page_answers_503_with_retry_after_when_the_database_keeps_deadlocking(
    monkeypatch, client, patient, patient_user, physio, front_desk, assessment, shifts
) -> None:
    visit = book(patient, physio, assessment, front_desk)
    monkeypatch.setattr(
        booking_services, "audit_record", Flaky(booking_services.audit_record, failures=ATTEMPTS)
    )
    client.force_login(patient_user)
    response = client.post(reverse("portal_cancel", args=[visit.pk]), {"reason": ""})
    assert response.status_code == 503
    assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert "your request was not carried out" in response.content.decode()
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.BOOKED


@pytest.mark.django_db(transaction=True)
def test_a_page_whose_read_times_out_on_a_lock_answers_503_and_other_failures_stay_500(
    monkeypatch, patient, owner
) -> None:
    real = scheduling_tags.upcoming_appointments_for_patient
    monkeypatch.setattr(
        scheduling_tags,
        "upcoming_appointments_for_patient",
        Flaky(real, failures=1, kind=psycopg.errors.LockNotAvailable),
    )
    client = Client(raise_request_exception=False)
    client.force_login(owner)
    page = reverse("patient_detail", args=[patient.pk])
    busy = client.get(page)
    assert busy.status_code == 503
    assert busy["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert client.get(page).status_code == 200  # the next try goes through
    monkeypatch.setattr(
        scheduling_tags,
        "upcoming_appointments_for_patient",
        Flaky(real, failures=1, kind=psycopg.errors.AdminShutdown),
    )
    assert client.get(page).status_code == 500
