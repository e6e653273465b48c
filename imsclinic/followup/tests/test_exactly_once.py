"""Each check-in is sent exactly once: two workers at once, and across a worker restart.

These use real time (the workers are other threads and processes) and PostgreSQL, whose row
locks are what stands between two workers.
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

import pytest
from django.core import mail
from django.db import connection, connections, transaction
from django.tasks import TaskResultStatus
from django.utils import timezone

from imsclinic.accounts.models import User
from imsclinic.charting.models import NeedlingSession, NoteStatus
from imsclinic.clinic.models import Clinic, Service
from imsclinic.followup.models import CheckIn, CheckInStatus
from imsclinic.followup.tasks import send_checkin
from imsclinic.patients.models import Patient
from imsclinic.scheduling.models import AppointmentStatus
from tests.factories.charting import ims_visit
from tests.factories.tasks import queued_tasks, wait_until_all_tasks_finish

ROOT = Path(__file__).resolve().parents[3]
SESSIONS = 6


def signed_sessions(patient: Patient, physio: User, service: Service) -> list[NeedlingSession]:
    """Put signed needling notes straight into the database (no readiness needed here)."""
    sessions = []
    for index in range(SESSIONS):
        visit = ims_visit(
            patient,
            physio,
            service,
            start=timezone.now() - dt.timedelta(days=index + 2),
            status=AppointmentStatus.COMPLETED,
        )
        sessions.append(
            NeedlingSession.objects.create(
                patient=patient,
                appointment=visit,
                practitioner=physio,
                nprs_before=5,
                nprs_after=2,
                status=NoteStatus.SIGNED,
                signed_at=visit.end,
                signed_by=physio,
            )
        )
    return sessions


def enqueue_each_twice(sessions: list[NeedlingSession], *, run_after: dt.datetime) -> None:
    """Queue every session's check-in task twice, all visible at one commit."""
    with transaction.atomic():
        for session in sessions:
            for _ in range(2):
                send_checkin.using(run_after=run_after).enqueue(session.pk)


def worker_env(mail_dir: Path) -> dict[str, str]:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    host = f"{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
    return {
        **os.environ,
        "DEBUG": "1",
        "DJANGO_SETTINGS_MODULE": "imsclinic.scheduling.tests.worker_settings",
        "DATABASE_URL": f"postgres://{db['USER']}{password}@{host}/{db['NAME']}",
        "IMSCLINIC_TEST_MAIL_DIR": str(mail_dir),
        "PYTHONUNBUFFERED": "1",
    }


def start_worker(name: str, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    command = [
        sys.executable,
        str(ROOT / "manage.py"),
        "db_worker",
        "--no-reload",
        "--no-startup-delay",
        "--interval",
        "0.05",
        "--worker-id",
        name,
    ]
    with log.open("ab") as out:
        worker = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while "Starting worker" not in log.read_text():
        assert worker.poll() is None, log.read_text()
        assert time.monotonic() < deadline, "the worker did not start"
        time.sleep(0.1)
    return worker


def stop(worker: subprocess.Popen[bytes]) -> None:
    if worker.poll() is None:
        worker.send_signal(signal.SIGTERM)
    worker.wait(timeout=30)


def mailed_to(mail_dir: Path) -> list[str]:
    """Return the recipient of every email the filebased backend wrote."""
    recipients = []
    for path in mail_dir.iterdir():
        for chunk in path.read_bytes().split(b"\n" + b"-" * 79 + b"\n"):
            if chunk.strip():
                message = email.message_from_bytes(chunk, policy=default_policy)
                recipients.append(str(message["To"]))
    return recipients


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_threads_running_the_same_checkin_task_send_one_email(
    patient: Patient,
    physio: User,
    ims_service: Service,
    clinic: Clinic,
    mailoutbox: list[mail.EmailMessage],
) -> None:
    (session,) = signed_sessions(patient, physio, ims_service)[:1]
    barrier = threading.Barrier(2)
    results: list[bool] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait(timeout=10)
            results.append(send_checkin.call(session.pk))
        except BaseException as error:  # reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert sorted(results) == [False, True]
    assert len(mailoutbox) == 1
    assert CheckIn.objects.get(session=session).status == CheckInStatus.SENT


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_worker_processes_send_each_checkin_exactly_once(
    patient: Patient, physio: User, ims_service: Service, clinic: Clinic, tmp_path: Path
) -> None:
    sessions = signed_sessions(patient, physio, ims_service)
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    env = worker_env(mail_dir)
    workers = [
        start_worker(f"worker-{name}", env, tmp_path / f"worker-{name}.log") for name in "ab"
    ]
    try:
        enqueue_each_twice(sessions, run_after=timezone.now())
        wait_until_all_tasks_finish()
    finally:
        for worker in workers:
            stop(worker)
    returned = list(queued_tasks().values_list("return_value", flat=True))
    assert returned.count(True) == returned.count(False) == SESSIONS
    assert mailed_to(mail_dir) == ["pat@patients.example"] * SESSIONS
    assert CheckIn.objects.filter(status=CheckInStatus.SENT).count() == SESSIONS
    workers_used = {
        worker_id
        for ids in queued_tasks().values_list("worker_ids", flat=True)
        for worker_id in ids
    }
    assert workers_used == {"worker-a", "worker-b"}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_checkin_queued_before_a_worker_restart_is_sent_once_after_it(
    patient: Patient, physio: User, ims_service: Service, clinic: Clinic, tmp_path: Path
) -> None:
    (session,) = signed_sessions(patient, physio, ims_service)[:1]
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    env = worker_env(mail_dir)
    log = tmp_path / "worker.log"

    first = start_worker("before-restart", env, log)
    due = timezone.now() + dt.timedelta(seconds=6)
    try:
        send_checkin.using(run_after=due).enqueue(session.pk)
        time.sleep(1)
    finally:
        stop(first)
    assert timezone.now() < due, "the first worker was meant to stop before the check-in was due"
    assert mailed_to(mail_dir) == []
    assert queued_tasks().get().status == TaskResultStatus.READY

    while timezone.now() < due + dt.timedelta(seconds=0.5):
        time.sleep(0.1)
    second = start_worker("after-restart", env, log)
    try:
        wait_until_all_tasks_finish()
        time.sleep(0.5)  # a chance for a second send, were there one
    finally:
        stop(second)
    assert mailed_to(mail_dir) == ["pat@patients.example"]
    result = queued_tasks().get()
    assert result.status == TaskResultStatus.SUCCESSFUL
    assert result.worker_ids == ["after-restart"]
