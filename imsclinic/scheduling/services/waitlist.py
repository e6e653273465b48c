"""The waitlist: patients waiting for a time, offers when one frees up, first claim books it.

Flow: `waitlist_join` records what a patient waits for. When a cancellation or a reschedule
frees a time, `tasks.offer_freed_time` (a django.tasks task, queued in the freeing transaction)
finds the waiting entries that time suits, checks with the availability engine that the
freed start is really bookable for each entry's service, records one `WaitlistOffer` per
entry and emails each patient a signed claim link. `waitlist_claim` books through
`appointment_book`: the first click wins, every later one finds the time gone and the
patient stays on the waitlist.
"""

from __future__ import annotations

import datetime as dt
from functools import partial
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Case, Q, QuerySet, Value, When
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from imsclinic.clinic.models import Clinic, Location, Practitioner, Service
from imsclinic.core.audit import audit_record
from imsclinic.core.errors import Refused
from imsclinic.core.locking import lock_rows, retry_transient
from imsclinic.core.models import Action, ObjectType, Outcome
from imsclinic.patients.models import Patient
from imsclinic.scheduling.availability import slot_is_offered
from imsclinic.scheduling.models import (
    Appointment,
    WaitlistEntry,
    WaitlistOffer,
    WaitlistStatus,
)
from imsclinic.scheduling.selectors import availability_query, patient_has_visit_during
from imsclinic.scheduling.services.booking import (
    InitialAssessmentAlreadyBooked,
    SlotTaken,
    SlotUnavailable,
    appointment_book,
    has_initial_assessment,
    needs_assessment_first,
)

if TYPE_CHECKING:
    from imsclinic.accounts.models import User

# A patient may wait for one service in a few ways at once (say, two date ranges), not more.
MAX_WAITING_PER_SERVICE = 3
CLAIM_SALT = "imsclinic.scheduling.waitlist.claim"
# A claim link stops working after this long even if the offered time is further away.
CLAIM_LINK_LIFETIME = dt.timedelta(hours=48)


class WaitlistError(Refused):
    """A waitlist action the rules do not allow; str() is for the user."""


class OfferClosed(WaitlistError):
    """The offer was already claimed, taken, withdrawn or has expired."""

    def __init__(self, offer: WaitlistOffer, message: str | None = None) -> None:
        super().__init__(message or _("This offer is no longer open."))
        self.offer = offer


class OfferGone(WaitlistError):
    """Someone else booked the offered time first; the patient is still waiting."""

    def __init__(self) -> None:
        super().__init__(
            _("Sorry, someone else booked that time first. You are still on the waitlist.")
        )


class ClaimLinkInvalid(WaitlistError):
    """The link was altered, or was never ours."""


class ClaimLinkExpired(WaitlistError):
    """The link is genuine but too old."""


def _is_staff(actor: User | None) -> bool:
    return bool(getattr(actor, "is_clinic_staff", False))


def _may_act_for(actor: User | None, patient: Patient) -> bool:
    if actor is None or not getattr(actor, "is_authenticated", False):
        return False
    if _is_staff(actor):
        return bool(actor.has_perm("patients.view_patient", patient))
    return patient.user_id is not None and patient.user_id == actor.pk


def _today(now: dt.datetime, location: Location | None) -> dt.date:
    """Return today's date where the patient would be seen (the earliest zone if any)."""
    if location is not None:
        return now.astimezone(location.zone).date()
    zones = Location.objects.filter(is_active=True).values_list("time_zone", flat=True)
    days = [now.astimezone(ZoneInfo(name)).date() for name in zones]
    return min(days, default=now.astimezone(dt.UTC).date())


# ---------------------------------------------------------------------------------------------
# Joining and leaving


def waitlist_join(
    *,
    patient: Patient,
    service: Service,
    earliest: dt.date,
    latest: dt.date,
    actor: User | None,
    practitioner: Practitioner | None = None,
    location: Location | None = None,
    request: HttpRequest | None = None,
    now: dt.datetime | None = None,
) -> WaitlistEntry:
    """Put a patient on the waitlist for a service between two local dates (both included).

    Refuses (WaitlistError by field, nothing written) a wish that could never be offered:
    among others a practitioner who does not give the service in those dates (an IMS
    service needs a current IMS certification) or works at no open location, a follow-up
    before any IMS visit, and a second initial assessment (`has_initial_assessment`).
    """
    now = now or timezone.now()
    if not _may_act_for(actor, patient):
        raise PermissionDenied(_("Patients may only join the waitlist for themselves."))
    errors: dict[str, str] = {}
    if not service.is_active or not service.bookable_online:
        # Offers are claimed online by the patient, so a phone-only service cannot be offered.
        errors["service"] = _(
            "This service cannot be booked online, so there is no waitlist for it. Please call "
            "the clinic."
        )
    if location is not None and not location.is_active:
        errors["location"] = _("This location is not open for booking.")
    if practitioner is not None:
        if not practitioner.is_active:
            errors["practitioner"] = _("This practitioner is not taking bookings.")
        elif location is not None and not practitioner.locations.filter(pk=location.pk).exists():
            errors["practitioner"] = _("This practitioner does not work at that location.")
        elif location is None and not practitioner.locations.filter(is_active=True).exists():
            errors["practitioner"] = _(
                "%(name)s does not see patients at any open location. Choose someone else, "
                "or anyone."
            ) % {"name": practitioner.display_name}
        elif (
            latest >= earliest
            and practitioner.first_day_giving(service, earliest, latest, location) is None
        ):
            errors["practitioner"] = _(
                "%(name)s holds no current licence to needle for those dates, so cannot give "
                "%(service)s. Choose someone else, or anyone."
            ) % {"name": practitioner.display_name, "service": service.name}
    today = _today(now, location)
    if earliest < today:
        errors["earliest"] = _("Choose today or a later day.")
    if latest < earliest:
        errors["latest"] = _("The last day cannot be before the first day.")
    elif latest > earliest + dt.timedelta(days=service.horizon_days):
        errors["latest"] = _("Choose a last day at most %(days)d days after the first day.") % {
            "days": service.horizon_days
        }
    if "service" not in errors and needs_assessment_first(patient, service, None):
        errors["service"] = _(
            "Your first IMS visit must be the initial assessment. Please book or wait for "
            "that first."
        )
    if "service" not in errors and has_initial_assessment(patient, service):
        errors["service"] = str(InitialAssessmentAlreadyBooked(service))
    if errors:
        raise WaitlistError(errors=errors)

    with transaction.atomic():
        # One patient's joins queue here so the limit below cannot be raced past.
        lock_rows(Patient, patient.pk)
        waiting = WaitlistEntry.objects.filter(
            patient=patient, service=service, status=WaitlistStatus.WAITING
        )
        same_wish = waiting.filter(
            practitioner=practitioner,
            location=location,
            earliest__lte=latest,
            latest__gte=earliest,
        ).first()
        if same_wish is not None:
            raise WaitlistError(
                _(
                    "You are already on the waitlist for %(service)s from %(first)s to "
                    "%(last)s. Withdraw that entry first to change the dates."
                )
                % {
                    "service": service.name,
                    "first": same_wish.earliest.isoformat(),
                    "last": same_wish.latest.isoformat(),
                }
            )
        if waiting.count() >= MAX_WAITING_PER_SERVICE:
            raise WaitlistError(
                _("You can wait for %(service)s in at most %(count)d ways at once.")
                % {"service": service.name, "count": MAX_WAITING_PER_SERVICE}
            )
        entry = WaitlistEntry.objects.create(
            patient=patient,
            service=service,
            practitioner=practitioner,
            location=location,
            earliest=earliest,
            latest=latest,
            status=WaitlistStatus.WAITING,
            created_by=actor,
        )
        audit_record(
            actor=actor,
            action=Action.CREATE,
            object_type=ObjectType.WAITLIST_ENTRY,
            object_id=entry.pk,
            patient=patient,
            request=request,
            detail={
                "service": service.slug,
                "practitioner": practitioner.pk if practitioner else None,
                "location": location.pk if location else None,
                "earliest": earliest.isoformat(),
                "latest": latest.isoformat(),
            },
        )
    return entry


def waitlist_withdraw(
    *,
    entry: WaitlistEntry,
    actor: User | None,
    request: HttpRequest | None = None,
    now: dt.datetime | None = None,
) -> WaitlistEntry:
    """Take a waiting entry off the waitlist; its open offers close with it."""
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        locked = (
            WaitlistEntry.objects.select_for_update(of=("self",), no_key=True)
            .select_related("patient")
            .get(pk=entry.pk)
        )
        if not _may_act_for(actor, locked.patient):
            raise PermissionDenied(_("Patients may only withdraw their own waitlist entries."))
        if locked.status != WaitlistStatus.WAITING:
            raise WaitlistError(_("This entry is no longer on the waitlist."))
        locked.status = WaitlistStatus.WITHDRAWN
        locked.save(update_fields=["status"])
        locked.offers.filter(outcome=WaitlistOffer.Outcome.OPEN).update(
            outcome=WaitlistOffer.Outcome.EXPIRED, decided_at=now
        )
        audit_record(
            actor=actor,
            action=Action.UPDATE,
            object_type=ObjectType.WAITLIST_ENTRY,
            object_id=locked.pk,
            patient=locked.patient,
            request=request,
            detail={"status": WaitlistStatus.WITHDRAWN.value},
        )
    entry.refresh_from_db()
    return entry


def waitlist_expire(*, now: dt.datetime | None = None) -> int:
    """Mark entries whose last day has passed everywhere, and offers already past, expired."""
    now = now or timezone.now()
    # A day has passed in every zone once UTC is two dates beyond it (zones lie within 14 h).
    cutoff = now.astimezone(dt.UTC).date() - dt.timedelta(days=1)
    with transaction.atomic():
        stale = list(
            WaitlistEntry.objects.select_for_update(of=("self",), no_key=True)
            .select_related("patient")
            .filter(status=WaitlistStatus.WAITING, latest__lt=cutoff)
            .order_by("pk")
        )
        for entry in stale:
            entry.status = WaitlistStatus.EXPIRED
            entry.save(update_fields=["status"])
            audit_record(
                actor=None,
                action=Action.UPDATE,
                object_type=ObjectType.WAITLIST_ENTRY,
                object_id=entry.pk,
                patient=entry.patient,
                detail={"status": WaitlistStatus.EXPIRED.value},
            )
        WaitlistOffer.objects.filter(outcome=WaitlistOffer.Outcome.OPEN).filter(
            Q(start__lte=now) | Q(entry__in=[entry.pk for entry in stale])
        ).update(outcome=WaitlistOffer.Outcome.EXPIRED, decided_at=now)
    return len(stale)


# ---------------------------------------------------------------------------------------------
# Offering a freed time


def waiting_entries_for(
    *, practitioner: Practitioner, location: Location, day: dt.date
) -> QuerySet[WaitlistEntry]:
    """Return the waiting entries a time with this practitioner, place and local day suits."""
    return (
        WaitlistEntry.objects.filter(
            status=WaitlistStatus.WAITING,
            earliest__lte=day,
            latest__gte=day,
            service__is_active=True,
            service__bookable_online=True,
            patient__user__isnull=False,
        )
        .filter(Q(practitioner__isnull=True) | Q(practitioner=practitioner))
        .filter(Q(location__isnull=True) | Q(location=location))
        .select_related("service", "patient__user")
        .order_by("created_at", "pk")
    )


def waitlist_offer_freed_time(
    *,
    practitioner: Practitioner,
    location: Location,
    start: dt.datetime,
    now: dt.datetime | None = None,
) -> list[WaitlistOffer]:
    """Offer a freed start to every waiting patient it suits and can be booked for; email them."""
    if start.tzinfo is None:
        raise ValueError("start must be an aware datetime")
    now = now or timezone.now()
    waitlist_expire(now=now)
    if start <= now or not practitioner.is_active or not location.is_active:
        return []
    day = start.astimezone(location.zone).date()
    by_service: dict[int, list[WaitlistEntry]] = {}
    for entry in waiting_entries_for(practitioner=practitioner, location=location, day=day):
        by_service.setdefault(entry.service_id, []).append(entry)

    made: list[WaitlistOffer] = []
    offered_patients: set[int] = set(
        WaitlistOffer.objects.filter(
            practitioner=practitioner, start=start, outcome=WaitlistOffer.Outcome.OPEN
        ).values_list("entry__patient_id", flat=True)
    )
    for entries in by_service.values():
        service = entries[0].service
        # A freed hour may still fit a shorter service, or not fit a longer one: ask the engine.
        query = availability_query(
            service=service,
            start_date=day,
            days=1,
            practitioner=practitioner,
            location=location,
            now=now,
        )
        if slot_is_offered(query, practitioner.pk, location.pk, start) is None:
            continue
        for entry in entries:
            if entry.patient_id in offered_patients or not entry.patient.contact_email:
                continue
            if needs_assessment_first(entry.patient, service, start):
                continue
            if has_initial_assessment(entry.patient, service):
                continue  # booked their first IMS visit since joining: no second one
            if patient_has_visit_during(
                entry.patient, start, start + dt.timedelta(minutes=service.duration_minutes)
            ):
                continue  # already booked then, with someone else: no use offering it
            with transaction.atomic():
                offer, created = WaitlistOffer.objects.get_or_create(
                    entry=entry,
                    practitioner=practitioner,
                    start=start,
                    defaults={"location": location, "sent_at": now},
                )
                offered_patients.add(entry.patient_id)
                if not created:
                    continue
                audit_record(
                    actor=None,
                    action=Action.CREATE,
                    object_type=ObjectType.WAITLIST_OFFER,
                    object_id=offer.pk,
                    patient=entry.patient,
                    detail={
                        "entry": entry.pk,
                        "practitioner": practitioner.pk,
                        "start": start.astimezone(dt.UTC).isoformat(),
                    },
                )
                # robust: one undeliverable address must not stop the others' emails.
                transaction.on_commit(partial(_send_offer, offer.pk), robust=True)
            made.append(offer)
    return made


# ---------------------------------------------------------------------------------------------
# Claim links


def claim_token(offer: WaitlistOffer) -> str:
    """Return the signed token that lets the offer's patient claim it (this offer, nothing else)."""
    return signing.dumps({"offer": offer.pk}, salt=CLAIM_SALT, compress=True)


def claim_url(offer: WaitlistOffer) -> str:
    """Return the absolute claim link emailed to the patient."""
    return settings.SITE_URL + reverse("waitlist_claim", kwargs={"token": claim_token(offer)})


def offer_for_token(token: str) -> WaitlistOffer:
    """Return the offer a claim link names, or raise ClaimLinkInvalid / ClaimLinkExpired."""
    try:
        payload = signing.loads(token, salt=CLAIM_SALT, max_age=CLAIM_LINK_LIFETIME)
    except signing.SignatureExpired as error:
        raise ClaimLinkExpired(
            _("This link has expired. You are still on the waitlist if your dates have not passed.")
        ) from error
    except signing.BadSignature as error:
        raise ClaimLinkInvalid(_("This link is not valid.")) from error
    offer_id = payload.get("offer") if isinstance(payload, dict) else None
    if not isinstance(offer_id, int):
        raise ClaimLinkInvalid(_("This link is not valid."))
    offer = (
        WaitlistOffer.objects.select_related(
            "entry__service", "entry__patient", "practitioner", "location"
        )
        .filter(pk=offer_id)
        .first()
    )
    if offer is None:
        raise ClaimLinkInvalid(_("This link is not valid."))
    return offer


def offer_state(offer: WaitlistOffer, *, now: dt.datetime | None = None) -> str:
    """Say what a claim page should show: open, booked, gone or expired."""
    now = now or timezone.now()
    if offer.outcome != WaitlistOffer.Outcome.OPEN:
        return str(offer.outcome)
    if offer.start <= now or offer.entry.status != WaitlistStatus.WAITING:
        return WaitlistOffer.Outcome.EXPIRED.value
    return WaitlistOffer.Outcome.OPEN.value


@retry_transient(conflict=SlotTaken)
def waitlist_claim(
    *,
    offer: WaitlistOffer,
    actor: User | None,
    request: HttpRequest | None = None,
    now: dt.datetime | None = None,
) -> Appointment:
    """Book the offered time for the offer's patient if it is still free; first claim wins.

    Raises OfferClosed if the offer was already decided, OfferGone (after recording it) if
    someone else booked the time first, InitialAssessmentAlreadyBooked (changing nothing) for
    a second initial assessment, and lets other BookingErrors through unchanged.
    """
    now = now or timezone.now()
    lost = False
    with transaction.atomic():
        # Claims of one practitioner's time queue on the practitioner row (the same lock
        # appointment_book takes), so closing the rival offers below cannot deadlock. Then,
        # in the same order as every booking, the patient, then the offer and its entry only.
        lock_rows(Practitioner, offer.practitioner_id)
        lock_rows(
            Patient,
            *WaitlistEntry.objects.filter(pk=offer.entry_id).values_list("patient_id", flat=True),
        )
        locked = (
            WaitlistOffer.objects.select_for_update(of=("self", "entry"), no_key=True)
            .select_related("entry__patient", "entry__service", "practitioner", "location")
            .get(pk=offer.pk)
        )
        entry = locked.entry
        patient = entry.patient
        if not _may_act_for(actor, patient):
            raise PermissionDenied(_("Only the patient it was sent to can claim this offer."))
        state = offer_state(locked, now=now)
        if state != WaitlistOffer.Outcome.OPEN:
            if locked.outcome == WaitlistOffer.Outcome.OPEN:
                _decide(locked, WaitlistOffer.Outcome.EXPIRED, now)
            raise OfferClosed(locked)
        if has_initial_assessment(patient, entry.service):
            raise InitialAssessmentAlreadyBooked(entry.service)
        try:
            appointment = appointment_book(
                patient=patient,
                practitioner=locked.practitioner,
                service=entry.service,
                location=locked.location,
                start=locked.start,
                actor=actor,
                request=request,
                now=now,
            )
        except SlotUnavailable:
            lost = True
            _decide(locked, WaitlistOffer.Outcome.GONE, now)
        else:
            _decide(locked, WaitlistOffer.Outcome.BOOKED, now)
            entry.status = WaitlistStatus.BOOKED
            entry.appointment = appointment
            entry.save(update_fields=["status", "appointment"])
            # The time is taken: the others offered it are told so when they click. This
            # entry's other offers are no longer needed.
            WaitlistOffer.objects.filter(
                practitioner=locked.practitioner,
                start=locked.start,
                outcome=WaitlistOffer.Outcome.OPEN,
            ).exclude(pk=locked.pk).update(outcome=WaitlistOffer.Outcome.GONE, decided_at=now)
            entry.offers.filter(outcome=WaitlistOffer.Outcome.OPEN).update(
                outcome=WaitlistOffer.Outcome.EXPIRED, decided_at=now
            )
        audit_record(
            actor=actor,
            action=Action.UPDATE,
            object_type=ObjectType.WAITLIST_OFFER,
            object_id=locked.pk,
            patient=patient,
            outcome=Outcome.FAILED if lost else Outcome.ALLOWED,
            request=request,
            detail={
                "outcome": locked.outcome,
                "appointment": None if lost else appointment.pk,
            },
        )
    if lost:
        raise OfferGone()
    offer.refresh_from_db()
    return appointment


def _decide(offer: WaitlistOffer, outcome: WaitlistOffer.Outcome, now: dt.datetime) -> None:
    offer.outcome = outcome
    offer.decided_at = now
    offer.save(update_fields=["outcome", "decided_at"])


# ---------------------------------------------------------------------------------------------
# Reads for the portal


def waitlist_entries_for_patient(patient: Patient) -> QuerySet[WaitlistEntry]:
    """Return a patient's waitlist entries, waiting ones first, newest first within."""
    return (
        WaitlistEntry.objects.filter(patient=patient)
        .select_related("service", "practitioner", "location", "appointment__location")
        # Waiting first: the rest is history.
        .order_by(
            Case(When(status=WaitlistStatus.WAITING, then=Value(0)), default=Value(1)),
            "-created_at",
            "-pk",
        )
    )


# ---------------------------------------------------------------------------------------------
# Email


def _send_offer(offer_id: int) -> None:
    """Email one offer's patient the time and the claim link."""
    offer = WaitlistOffer.objects.select_related(
        "entry__service", "entry__patient__user", "practitioner", "location"
    ).get(pk=offer_id)
    patient = offer.entry.patient
    address = patient.contact_email
    if not address:
        return
    local_start = offer.start.astimezone(offer.location.zone)
    context = {
        "offer": offer,
        "patient": patient,
        "service": offer.entry.service,
        "practitioner": offer.practitioner,
        "location": offer.location,
        "start": local_start,
        "zone": local_start.tzname() or offer.location.time_zone,
        "url": claim_url(offer),
        "hours": int(CLAIM_LINK_LIFETIME.total_seconds() // 3600),
        "clinic": Clinic.current(),
    }
    subject = render_to_string("scheduling/email/waitlist_offer_subject.txt", context)
    message = EmailMultiAlternatives(
        subject=" ".join(subject.split()),
        body=render_to_string("scheduling/email/waitlist_offer.txt", context),
        to=[address],
    )
    message.attach_alternative(
        render_to_string("scheduling/email/waitlist_offer.html", context), "text/html"
    )
    message.send()
