"""The owners are emailed 60 and 14 days before any licence expires, each reminder once."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from imsclinic.clinic.models import LicenceReminder
from imsclinic.clinic.services import licence_reminders_send
from imsclinic.clinic.tasks import (
    LICENCE_REMINDERS_HOUR_UTC,
    queue_licence_reminders,
    send_licence_reminders,
)
from imsclinic.core.signals import worker_starting
from tests.factories.mail import MailServer

pytestmark = pytest.mark.django_db

TASK = send_licence_reminders.module_path


def day_at_noon(offset: int) -> dt.datetime:
    """Noon UTC, `offset` days from today."""
    return dt.datetime.combine(
        timezone.localdate() + dt.timedelta(days=offset), dt.time(12), tzinfo=dt.UTC
    )


def test_a_registration_expiring_is_reminded_at_60_and_at_14_days_and_never_again(
    owner, physio, patient
):
    practitioner = physio.practitioner
    practitioner.registration_expires_on = timezone.localdate() + dt.timedelta(days=75)
    practitioner.save()
    sent_on = {}
    for offset in range(0, 80):  # every day until after it has expired
        before = len(mail.outbox)
        licence_reminders_send(now=day_at_noon(offset))
        licence_reminders_send(now=day_at_noon(offset))  # a re-run the same day
        if len(mail.outbox) > before:
            sent_on[offset] = len(mail.outbox) - before
    assert sent_on == {15: 1, 61: 1}  # 60 and 14 days before the 75th day
    first, second = mail.outbox
    assert first.to == [owner.email]
    assert "Tara Treating: college registration expires on" in first.body
    assert "in 60 days" in first.body and "in 14 days" in second.body
    for message in mail.outbox:
        assert patient.given_name not in message.body and patient.family_name not in message.body
        assert "no health information" in message.body
    assert LicenceReminder.objects.count() == 2


def test_every_licence_expiring_is_listed_in_one_email_to_each_active_owner(
    owner, front_desk, physio
):
    today = timezone.localdate()
    practitioner = physio.practitioner
    practitioner.registration_expires_on = today + dt.timedelta(days=10)
    practitioner.ims_certification_expires_on = today + dt.timedelta(days=40)
    practitioner.needling_authorisation_body = "Physiotherapy Alberta"
    practitioner.needling_authorisation_number = "RA-1"
    practitioner.needling_authorised_on = today - dt.timedelta(days=300)
    practitioner.needling_authorisation_expires_on = today + dt.timedelta(days=50)
    practitioner.save()
    assert licence_reminders_send() == 3
    (message,) = mail.outbox
    assert message.to == [owner.email]
    assert "college registration expires on" in message.body
    assert "IMS certificate expires on" in message.body
    assert "needling authorisation expires on" in message.body
    assert sorted(LicenceReminder.objects.values_list("licence", "days_before")) == [
        ("ims_certificate", 60),
        ("needling_authorisation", 60),
        ("registration", 14),
    ]


def test_a_renewed_licence_is_reminded_about_afresh(owner, physio):
    practitioner = physio.practitioner
    practitioner.registration_expires_on = timezone.localdate() + dt.timedelta(days=30)
    practitioner.save()
    assert licence_reminders_send() == 1
    assert licence_reminders_send() == 0
    practitioner.registration_expires_on = timezone.localdate() + dt.timedelta(days=30 + 365)
    practitioner.save()
    assert licence_reminders_send() == 0  # a year away: nothing yet
    assert licence_reminders_send(now=day_at_noon(365)) == 1


def test_nothing_is_sent_for_an_expired_licence_or_one_without_an_expiry(owner, physio):
    practitioner = physio.practitioner
    practitioner.registration_expires_on = timezone.localdate() - dt.timedelta(days=1)
    practitioner.save()
    assert practitioner.ims_certification_expires_on is None
    assert licence_reminders_send() == 0
    assert mail.outbox == []


def test_with_the_mail_server_down_nothing_is_recorded_and_the_next_run_sends_it(
    owner, physio, mail_server: MailServer
):
    practitioner = physio.practitioner
    practitioner.registration_expires_on = timezone.localdate() + dt.timedelta(days=20)
    practitioner.save()
    mail_server.down()
    assert licence_reminders_send() == 0
    assert not LicenceReminder.objects.exists()
    mail_server.back_up()
    assert licence_reminders_send(now=day_at_noon(1)) == 1
    assert [message.to for message in mail.outbox] == [[owner.email]]


def test_the_daily_task_queues_its_next_run_once(owner, physio):
    practitioner = physio.practitioner
    practitioner.registration_expires_on = timezone.localdate() + dt.timedelta(days=14)
    practitioner.save()
    assert send_licence_reminders.call() == 1
    (queued,) = DBTaskResult.objects.filter(task_path=TASK)
    assert queued.run_after > timezone.now()
    assert queued.run_after - timezone.now() <= dt.timedelta(days=1)
    assert queued.run_after.astimezone(dt.UTC).hour == LICENCE_REMINDERS_HOUR_UTC
    assert queue_licence_reminders() is False
    assert DBTaskResult.objects.filter(task_path=TASK).count() == 1


def test_the_task_worker_starting_queues_the_reminders_if_none_is_waiting(db):
    worker_starting.send(sender=None)
    worker_starting.send(sender=None)
    assert DBTaskResult.objects.filter(task_path=TASK, status="READY").count() == 1
