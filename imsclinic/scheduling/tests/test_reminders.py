"""Reminders: due a fixed elapsed time before the visit, sent once, never for a cancelled visit.

The rule tested here: a reminder is due `Clinic.reminder_hours` of *elapsed* time before the
visit starts (UTC arithmetic). Across a DST change its wall-clock time therefore differs from
the visit's: 36 hours before a Monday 10:00 visit the day after the clocks go forward is
Saturday 21:00, not 22:00. A visit booked inside the window gets no reminder at all.
"""

from __future__ import annotations

import datetime as dt
import email
import os
import signal
import subprocess
import sys
import threading
import time
from email.policy import default as default_policy
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection, connections, transaction
from django.tasks import TaskResultStatus
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

from imsclinic.accounts.models import User
from imsclinic.clinic.models import Location, Service
from imsclinic.patients.models import Patient
from imsclinic.scheduling.models import (
    Appointment,
    AppointmentNotice,
    AppointmentStatus,
    NoticeKind,
)
from imsclinic.scheduling.notifications import reminder_due, reminder_schedule
from imsclinic.scheduling.tasks import send_appointment_notice, send_reminder
from tests.factories import VANCOUVER
from tests.factories.tasks import queued_tasks, wait_until_all_tasks_finish

ROOT = Path(__file__).resolve().parents[3]
LONDON = ZoneInfo("Europe/London")
REMINDER_TASK = "imsclinic.scheduling.tasks.send_reminder"


def visit_at(
    patient: Patient,
    physio: User,
    location: Location,
    service: Service,
    start: dt.datetime,
    status: str = AppointmentStatus.BOOKED,
) -> Appointment:
    start = start.astimezone(dt.UTC)
    return Appointment.objects.create(
        patient=patient,
        practitioner=physio.practitioner,
        location=location,
        service=service,
        start=start,
        end=start + dt.timedelta(minutes=service.duration_minutes),
        status=status,
    )


def iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat()


@pytest.mark.parametrize(
    ("start", "hours", "due_local"),
    [
        # Day after the spring change in Vancouver (Sunday 9 March 2031).
        (dt.datetime(2031, 3, 10, 10, tzinfo=VANCOUVER), 24, dt.datetime(2031, 3, 9, 10)),
        (dt.datetime(2031, 3, 10, 10, tzinfo=VANCOUVER), 36, dt.datetime(2031, 3, 8, 21)),
        # Day after the autumn change (Sunday 2 November 2031).
        (dt.datetime(2031, 11, 3, 10, tzinfo=VANCOUVER), 24, dt.datetime(2031, 11, 2, 10)),
        (dt.datetime(2031, 11, 3, 10, tzinfo=VANCOUVER), 36, dt.datetime(2031, 11, 1, 23)),
        # London: summer time begins Sunday 30 March 2031, ends Sunday 26 October 2031.
        (dt.datetime(2031, 3, 31, 10, tzinfo=LONDON), 36, dt.datetime(2031, 3, 29, 21)),
        (dt.datetime(2031, 10, 27, 10, tzinfo=LONDON), 36, dt.datetime(2031, 10, 25, 23)),
    ],
)
def test_the_reminder_is_due_that_many_elapsed_hours_before_the_visit(
    start: dt.datetime, hours: int, due_local: dt.datetime
) -> None:
    due = reminder_due(start, hours)
    assert start - due == dt.timedelta(hours=hours)
    assert due.astimezone(start.tzinfo).replace(tzinfo=None) == due_local


@pytest.mark.django_db
def test_the_reminder_task_is_queued_to_run_at_its_due_time(
    patient: Patient, physio: User, location: Location, ims_service: Service
) -> None:
    start = dt.datetime(2031, 11, 3, 10, tzinfo=VANCOUVER)
    visit = visit_at(patient, physio, location, ims_service, start)
    due = reminder_schedule(
        appointment_id=visit.pk,
        start=visit.start,
        reminder_hours=36,
        now=dt.datetime(2031, 10, 1, tzinfo=dt.UTC),
    )
    (row,) = DBTaskResult.objects.filter(task_path=REMINDER_TASK)
    assert row.run_after == due == dt.datetime(2031, 11, 2, 6, tzinfo=dt.UTC)
    assert row.task_result.args == [visit.pk, "2031-11-03T18:00:00+00:00"]


@pytest.mark.django_db
def test_a_visit_booked_inside_the_reminder_window_gets_no_reminder(
    patient: Patient, physio: User, location: Location, ims_service: Service
) -> None:
    start = dt.datetime(2031, 3, 10, 10, tzinfo=VANCOUVER)
    visit = visit_at(patient, physio, location, ims_service, start)
    due = reminder_schedule(
        appointment_id=visit.pk,
        start=visit.start,
        reminder_hours=24,
        now=start - dt.timedelta(hours=23),
    )
    assert due is None
    assert not DBTaskResult.objects.exists()


@pytest.mark.django_db
def test_a_reminder_tells_the_patient_of_the_visit(
    patient: Patient,
    physio: User,
    location: Location,
    ims_service: Service,
    mailoutbox: list[mail.EmailMessage],
) -> None:
    visit = visit_at(
        patient, physio, location, ims_service, dt.datetime(2031, 11, 3, 10, tzinfo=VANCOUVER)
    )
    assert send_reminder.call(visit.pk, iso(visit.start)) is True
    (message,) = mailoutbox
    assert message.subject == "Reminder: IMS follow-up on Monday 3 November 2031, 10:00 PST"
    assert "This is a reminder of your upcoming visit." in message.body
    notice = AppointmentNotice.objects.get()
    assert (notice.kind, notice.key) == (NoticeKind.REMINDER, "2031-11-03T18:00:00+00:00")


@pytest.mark.django_db
def test_a_reminder_run_twice_sends_once(
    patient: Patient,
    physio: User,
    location: Location,
    ims_service: Service,
    mailoutbox: list[mail.EmailMessage],
) -> None:
    visit = visit_at(
        patient, physio, location, ims_service, dt.datetime(2031, 3, 10, 10, tzinfo=VANCOUVER)
    )
    assert send_reminder.call(visit.pk, iso(visit.start)) is True
    assert send_reminder.call(visit.pk, iso(visit.start)) is False
    assert len(mailoutbox) == 1


@pytest.mark.django_db
@pytest.mark.parametrize("status", [AppointmentStatus.CANCELLED, AppointmentStatus.NO_SHOW])
def test_a_visit_no_longer_booked_gets_no_reminder(
    patient: Patient,
    physio: User,
    location: Location,
    ims_service: Service,
    mailoutbox: list[mail.EmailMessage],
    status: str,
) -> None:
    visit = visit_at(
        patient,
        physio,
        location,
        ims_service,
        dt.datetime(2031, 3, 10, 10, tzinfo=VANCOUVER),
        status,
    )
    assert send_reminder.call(visit.pk, iso(visit.start)) is False
    assert mailoutbox == []
    assert not AppointmentNotice.objects.exists()


@pytest.mark.django_db
def test_a_reminder_queued_for_another_start_time_is_not_sent(
    patient: Patient,
    physio: User,
    location: Location,
    ims_service: Service,
    mailoutbox: list[mail.EmailMessage],
) -> None:
    visit = visit_at(
        patient, physio, location, ims_service, dt.datetime(2031, 3, 10, 10, tzinfo=VANCOUVER)
    )
    assert send_reminder.call(visit.pk, iso(visit.start - dt.timedelta(hours=1))) is False
    assert mailoutbox == []


@pytest.mark.django_db
def test_a_reminder_reached_after_the_visit_is_not_sent(
    patient: Patient,
    physio: User,
    location: Location,
    ims_service: Service,
    mailoutbox: list[mail.EmailMessage],
) -> None:
    visit = visit_at(
        patient, physio, location, ims_service, dt.datetime(2020, 3, 10, 10, tzinfo=VANCOUVER)
    )
    assert send_reminder.call(visit.pk, iso(visit.start)) is False
    assert mailoutbox == []


@pytest.mark.django_db(transaction=True)
def test_the_worker_finds_the_reminder_task_and_runs_it_only_when_due(
    patient: Patient,
    physio: User,
    location: Location,
    ims_service: Service,
    mailoutbox: list[mail.EmailMessage],
) -> None:
    due_visit = visit_at(
        patient, physio, location, ims_service, dt.datetime(2031, 3, 10, 10, tzinfo=VANCOUVER)
    )
    later_visit = visit_at(
        patient, physio, location, ims_service, dt.datetime(2031, 3, 11, 10, tzinfo=VANCOUVER)
    )
    send_reminder.using(run_after=dt.datetime(2020, 1, 1, tzinfo=dt.UTC)).enqueue(
        due_visit.pk, iso(due_visit.start)
    )
    reminder_schedule(appointment_id=later_visit.pk, start=later_visit.start, reminder_hours=24)
    # The same command `make run` starts, in batch mode: it stops when nothing is due.
    call_command("db_worker", "--batch", "--no-reload", "--no-startup-delay", verbosity=0)
    done, waiting = DBTaskResult.objects.order_by("run_after")
    assert done.status == TaskResultStatus.SUCCESSFUL
    assert done.return_value is True
    assert waiting.status == TaskResultStatus.READY
    assert len(mailoutbox) == 1


def make_visits(
    patient: Patient, physio: User, location: Location, service: Service, count: int
) -> list[Appointment]:
    first = dt.datetime(2031, 3, 3, 9, tzinfo=VANCOUVER)
    return [
        visit_at(
            patient,
            physio,
            location,
            service,
            first + dt.timedelta(days=index // 6, hours=index % 6),
        )
        for index in range(count)
    ]


def enqueue_every_notice_twice(visits: list[Appointment]) -> None:
    """Queue each visit's confirmation and reminder twice, all visible at one commit."""
    with transaction.atomic():
        for visit in visits:
            for _ in range(2):
                send_reminder.enqueue(visit.pk, iso(visit.start))
                send_appointment_notice.enqueue(visit.pk, NoticeKind.CONFIRMATION.value, "sent")


def assert_sent_exactly_once(visits: list[Appointment], subjects: list[str]) -> None:
    assert not queued_tasks().exclude(status=TaskResultStatus.SUCCESSFUL).exists()
    # Two tasks per notice ran, and exactly one of each pair sent.
    returned = list(queued_tasks().values_list("return_value", flat=True))
    assert returned.count(True) == returned.count(False) == 2 * len(visits)
    assert AppointmentNotice.objects.count() == 2 * len(visits)
    assert len(subjects) == 2 * len(visits)
    assert len(set(subjects)) == len(subjects)
    assert sum(subject.startswith("Reminder:") for subject in subjects) == len(visits)


VISITS = 15


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_worker_processes_send_each_notice_exactly_once(
    patient: Patient, physio: User, location: Location, ims_service: Service, tmp_path: Path
) -> None:
    visits = make_visits(patient, physio, location, ims_service, VISITS)
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    host = f"{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
    env = {
        **os.environ,
        "DEBUG": "1",
        "DJANGO_SETTINGS_MODULE": "imsclinic.scheduling.tests.worker_settings",
        "DATABASE_URL": f"postgres://{db['USER']}{password}@{host}/{db['NAME']}",
        "IMSCLINIC_TEST_MAIL_DIR": str(mail_dir),
        "PYTHONUNBUFFERED": "1",
    }
    logs = [tmp_path / f"worker-{name}.log" for name in ("a", "b")]
    workers = []
    for name, log in zip(("a", "b"), logs, strict=True):
        command = [
            sys.executable,
            str(ROOT / "manage.py"),
            "db_worker",
            "--no-reload",
            "--no-startup-delay",
            "--interval",
            "0.05",
            "--worker-id",
            f"worker-{name}",
        ]
        with log.open("wb") as out:
            workers.append(
                subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
            )
    try:
        deadline = time.monotonic() + 60
        while not all("Starting worker" in log.read_text() for log in logs):
            assert all(worker.poll() is None for worker in workers), [
                log.read_text() for log in logs
            ]
            assert time.monotonic() < deadline, "the workers did not start"
            time.sleep(0.1)
        enqueue_every_notice_twice(visits)
        wait_until_all_tasks_finish()
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
        for worker in workers:
            worker.wait(timeout=30)
    subjects = []
    for path in mail_dir.iterdir():
        for chunk in path.read_bytes().split(b"\n" + b"-" * 79 + b"\n"):
            if chunk.strip():
                subjects.append(
                    str(email.message_from_bytes(chunk, policy=default_policy)["Subject"])
                )
    assert_sent_exactly_once(visits, subjects)
    workers_used = {
        worker_id
        for ids in queued_tasks().values_list("worker_ids", flat=True)
        for worker_id in ids
    }
    assert workers_used == {"worker-a", "worker-b"}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_worker_loops_with_their_own_connections_send_each_notice_exactly_once(
    patient: Patient,
    physio: User,
    location: Location,
    ims_service: Service,
    mailoutbox: list[mail.EmailMessage],
) -> None:
    visits = make_visits(patient, physio, location, ims_service, VISITS)
    workers = [
        Worker(
            queue_names=["default"],
            interval=0.02,
            batch=False,
            backend_name="default",
            startup_delay=False,
            max_tasks=None,
            worker_id=f"thread-{name}",
            excluded_queue_names=[],
        )
        for name in ("a", "b")
    ]
    errors: list[BaseException] = []

    def loop(worker: Worker) -> None:
        try:
            worker.run()
        except BaseException as error:  # reported by the test below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=loop, args=(worker,)) for worker in workers]
    for thread in threads:
        thread.start()
    try:
        enqueue_every_notice_twice(visits)
        wait_until_all_tasks_finish()
    finally:
        for worker in workers:
            worker.running = False
        for thread in threads:
            thread.join(timeout=30)
    assert errors == []
    assert_sent_exactly_once(visits, [str(message.subject) for message in mailoutbox])
    workers_used: set[Any] = {
        worker_id
        for ids in queued_tasks().values_list("worker_ids", flat=True)
        for worker_id in ids
    }
    assert workers_used == {"thread-a", "thread-b"}
