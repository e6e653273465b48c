"""Background work for follow-up: the check-in email and the red-flag alert, each sent once.

Exactly once, even with several `db_worker` processes: the check-in row (one per session, a
OneToOne, so a unique constraint) is locked with SELECT ... FOR UPDATE inside the transaction
that sends the email, and it is marked SENT in that same transaction. A second run of the
task (a duplicate, a second worker, a retry after success) waits on the lock, then finds it
SENT and sends nothing. If sending raises (mail server down), the transaction rolls back,
the row stays SCHEDULED, and the task queues itself again 15 minutes on, for as long as the
patient could still answer in time (due_at + checkin_answer_hours); the call list shows a
check-in still SCHEDULED after it was due as "could not be sent". The alert email is
guarded the same way by the alert's `emailed_at`.

A worker that was down when a check-in was due sends it when it comes back: the task row
waits in the database queue with its `run_after`.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.tasks import task
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from imsclinic.accounts.models import User
from imsclinic.charting.models import NeedlingSession, NoteStatus
from imsclinic.clinic.models import Clinic
from imsclinic.clinic.selectors import clinic_date_text
from imsclinic.core.mailing import retry_at, retry_unsent, send_each
from imsclinic.core.roles import Role
from imsclinic.followup.models import (
    SKIP_CANCELLED,
    SKIP_NO_EMAIL,
    SKIP_UNSIGNED,
    CheckIn,
    CheckInStatus,
    RedFlagAlert,
)
from imsclinic.followup.tokens import LINK_VALID_DAYS, checkin_token
from imsclinic.scheduling.models import AppointmentStatus

logger = logging.getLogger(__name__)


def _claim(session_id: int) -> CheckIn | None:
    """Return the session's check-in locked, creating it if the signing did not."""
    found = (
        CheckIn.objects.select_for_update(of=("self",), no_key=True)
        .select_related("session__appointment", "patient__user")
        .filter(session_id=session_id)
        .first()
    )
    if found is not None:
        return found
    session = NeedlingSession.objects.filter(pk=session_id).select_related("appointment").first()
    if session is None or session.status != NoteStatus.SIGNED:
        return None  # an unsigned note gets no check-in (and no row)
    from imsclinic.followup.services import new_checkin

    try:
        with transaction.atomic():  # a savepoint; the unique session refuses a second row
            new_checkin(session).save()
    except IntegrityError:
        pass
    return (
        CheckIn.objects.select_for_update(of=("self",), no_key=True)
        .select_related("session__appointment", "patient__user")
        .get(session_id=session_id)
    )


def _skip(checkin: CheckIn, reason: str) -> bool:
    checkin.status = CheckInStatus.SKIPPED
    checkin.skip_reason = reason
    checkin.save(update_fields=["status", "skip_reason"])
    logger.info("check-in %s not sent: %s", checkin.pk, reason)
    return False


def _send_checkin_email(checkin: CheckIn, recipient: str) -> None:
    clinic = Clinic.current()
    clinic_name = clinic.name if clinic is not None else ""
    phone = clinic.phone if clinic is not None else ""
    link = settings.SITE_URL + reverse("checkin_answer", args=[checkin_token(checkin.pk)])
    patient = checkin.patient
    with translation.override(settings.LANGUAGE_CODE):
        day = clinic_date_text(checkin.session.appointment.start)
        EmailMessage(
            subject=_("How are you after your visit? - %(clinic)s") % {"clinic": clinic_name},
            body=_(
                "Hello %(name)s,\n\nHow are you after your visit on %(day)s? Please tell us "
                "in a few short questions:\n%(link)s\n\nThe link works for %(days)d days. "
                "To talk to us, call %(phone)s.\n\n%(clinic)s"
            )
            % {
                "name": patient.preferred_name or patient.given_name,
                "day": day,
                "link": link,
                "days": LINK_VALID_DAYS,
                "phone": phone,
                "clinic": clinic_name,
            },
            to=[recipient],
            reply_to=[clinic.email] if clinic is not None and clinic.email else None,
        ).send()


def _retry_later(session_id: int) -> None:
    """Queue the check-in again in 15 minutes, while the patient can still answer it."""
    from imsclinic.followup.selectors import answer_hours

    due_at = (
        CheckIn.objects.filter(session_id=session_id, status=CheckInStatus.SCHEDULED)
        .values_list("due_at", flat=True)
        .first()
    )
    if due_at is None:
        return
    run_after = retry_at(timezone.now(), due_at + dt.timedelta(hours=answer_hours()))
    if run_after is None:
        logger.warning("check-in for session %s not sent; no retry, too late", session_id)
        return
    with transaction.atomic():
        send_checkin.using(run_after=run_after).enqueue(session_id)
    logger.warning("check-in for session %s not sent; retry at %s", session_id, run_after)


@task()
def send_checkin(session_id: int) -> bool:
    """Email the patient the check-in link for a signed session once; say whether it went."""
    try:
        return _send_checkin_once(session_id)
    except Exception:
        # The transaction rolled back (the row stays SCHEDULED, on the call list once due);
        # a later run may find the mail server back.
        _retry_later(session_id)
        raise


def _send_checkin_once(session_id: int) -> bool:
    with transaction.atomic():
        checkin = _claim(session_id)
        if checkin is None:
            return False
        if checkin.status != CheckInStatus.SCHEDULED:
            logger.info("check-in %s already %s", checkin.pk, checkin.status)
            return False
        session = checkin.session
        if session.status != NoteStatus.SIGNED:
            return _skip(checkin, SKIP_UNSIGNED)
        if session.appointment.status == AppointmentStatus.CANCELLED:
            return _skip(checkin, SKIP_CANCELLED)
        recipient = checkin.patient.contact_email
        if not recipient:
            return _skip(checkin, SKIP_NO_EMAIL)
        _send_checkin_email(checkin, recipient)
        checkin.status = CheckInStatus.SENT
        checkin.sent_at = timezone.now()
        checkin.save(update_fields=["status", "sent_at"])
    logger.info("check-in %s sent", checkin.pk)
    return True


@task()
def alert_care_team(alert_id: int) -> int:
    """Email the treating practitioner and every active owner about a red flag, once.

    The email holds no health information: not the patient or the answers, only that a
    follow-up check-in needs review and where to read it after signing in.
    """
    with transaction.atomic():
        alert = RedFlagAlert.objects.select_for_update(no_key=True).filter(pk=alert_id).first()
        if alert is None or alert.emailed_at is not None:
            return 0
        owners = User.objects.filter(role=Role.OWNER, is_active=True).values_list(
            "email", flat=True
        )
        treating = User.objects.filter(pk=alert.practitioner_id, is_active=True).values_list(
            "email", flat=True
        )
        recipients = sorted({address for address in [*treating, *owners] if address})
        clinic = Clinic.current()
        clinic_name = clinic.name if clinic is not None else ""
        link = settings.SITE_URL + reverse("followup_alert", args=[alert.pk])
        with translation.override(settings.LANGUAGE_CODE):
            messages = [
                EmailMessage(
                    subject=_("A follow-up check-in needs review now - %(clinic)s")
                    % {"clinic": clinic_name},
                    body=_(
                        "Hello,\n\nA patient's answers to a follow-up check-in need review "
                        "today.\n\nRead them after signing in:\n%(link)s\n\nThis email holds "
                        "no health information on purpose.\n\n%(clinic)s"
                    )
                    % {"link": link, "clinic": clinic_name},
                    to=[address],
                )
                for address in recipients
            ]
        sent = send_each(messages, about=f"follow-up alert {alert_id}")
        if messages and not sent:
            # The banner shows the alert meanwhile.
            retry_unsent(
                alert_care_team,
                alert_id,
                since=alert.created_at,
                about=f"follow-up alert {alert_id}",
            )
            return 0
        alert.emailed_at = timezone.now()
        alert.save(update_fields=["emailed_at"])
    logger.info("follow-up alert %s: %d of %d emailed", alert_id, sent, len(messages))
    return sent
