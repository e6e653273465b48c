"""Reads of screening and clearance that pages, the API, scheduling and charting share."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from django.db.models import Count, Exists, Min, OuterRef, Prefetch, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from imsclinic.clinic.models import Clinic, Service
from imsclinic.clinic.selectors import clinic_date_text, clinic_zone
from imsclinic.consent.models import ConsentSignature, ConsentVersion, VersionStatus
from imsclinic.core.permissions import is_owner, is_practitioner
from imsclinic.intake.models import Intake
from imsclinic.intake.selectors import (
    add_months,
    current_intake,
    intake_not_asked,
    intake_valid_months,
)
from imsclinic.patients.access import patients_visible_to
from imsclinic.patients.models import Patient
from imsclinic.safety.models import (
    ALERTING_SEVERITIES,
    AdverseEvent,
    AdverseEventUpdate,
    Clearance,
    EventStatus,
)
from imsclinic.safety.screening import ABSOLUTE, RELATIVE, Flag, screen

if TYPE_CHECKING:
    from imsclinic.accounts.models import User

# Safety reads visits through the patient's `appointments` and does not import scheduling,
# which imports safety for its booking gate: these are the stored values of
# scheduling.models.AppointmentStatus (a test holds them equal).
BOOKED, ARRIVED, IN_TREATMENT = "booked", "arrived", "in_treatment"
# Visits still to come (or under way) that the safety rules look ahead to.
OPEN_STATUSES = (BOOKED, ARRIVED)
QUEUE_EXPIRY_DAYS = 30
QUEUE_CONSENT_DAYS = 14


class Visit(Protocol):
    """What the safety rules read of a visit (a scheduling Appointment)."""

    @property
    def pk(self) -> Any: ...
    @property
    def patient(self) -> Patient: ...
    @property
    def patient_id(self) -> int: ...
    @property
    def service(self) -> Service: ...
    @property
    def start(self) -> dt.datetime: ...
    @property
    def status(self) -> str: ...


def age_at(patient: Patient, at: dt.datetime) -> int:
    """Return the patient's age in whole years on the day of `at` (the clinic's calendar)."""
    return patient.age_on(timezone.localdate(at))


def intake_flags(intake: Intake, *, patient: Patient, at: dt.datetime) -> list[Flag]:
    """Return the flags an intake's answers raise for this patient at this moment."""
    return screen(intake.answers or {}, age=age_at(patient, at), not_asked=intake_not_asked(intake))


def current_clearance(patient: Patient, intake: Intake | None) -> Clearance | None:
    """Return the latest decision on this (the current) intake, if a practitioner made one."""
    if intake is None:
        return None
    return (
        Clearance.objects.filter(patient=patient, intake=intake)
        .select_related("decided_by")
        .order_by("-decided_at", "-pk")
        .first()
    )


def clearance_history(patient: Patient) -> list[Clearance]:
    """Return every decision on the patient, newest first, with who made it."""
    return list(
        Clearance.objects.filter(patient=patient)
        .select_related("decided_by", "intake")
        .order_by("-decided_at", "-pk")
    )


@dataclass(frozen=True)
class Screening:
    """Where a patient stands: their current intake, its flags and the decision on it."""

    patient: Patient
    intake: Intake | None
    flags: list[Flag]
    clearance: Clearance | None  # a decision on the current intake
    valid_until: dt.datetime | None
    intake_current: bool  # within the clinic's validity period
    # Questions of today's form the intake never asked: it must be re-confirmed with them.
    not_asked: tuple[str, ...] = ()

    @property
    def needs_reconfirming(self) -> bool:
        return self.intake is not None and (not self.intake_current or bool(self.not_asked))

    @property
    def chest_wall(self) -> list[Flag]:
        """Return the flags that restrict needling over the chest wall (lung risk)."""
        return [flag for flag in self.flags if flag.restricts_chest_wall]

    @property
    def absolute(self) -> list[Flag]:
        return [flag for flag in self.flags if flag.kind == ABSOLUTE]

    @property
    def relative(self) -> list[Flag]:
        return [flag for flag in self.flags if flag.kind == RELATIVE]

    @property
    def needs_review(self) -> bool:
        """Say whether flags wait for a practitioner's decision."""
        return bool(self.flags) and self.clearance is None

    @property
    def stops_online_ims(self) -> bool:
        """Say whether the patient must call before IMS can be booked."""
        if self.clearance is not None:
            return not self.clearance.allows_needling
        return bool(self.absolute)


def screening_for(patient: Patient, *, at: dt.datetime | None = None) -> Screening:
    """Return the patient's screening as of now (or `at`)."""
    at = at or timezone.now()
    intake = current_intake(patient)
    if intake is None:
        return Screening(patient, None, [], None, None, False)
    assert intake.submitted_at is not None
    valid_until = add_months(intake.submitted_at, intake_valid_months())
    return Screening(
        patient=patient,
        intake=intake,
        flags=intake_flags(intake, patient=patient, at=at),
        clearance=current_clearance(patient, intake),
        valid_until=valid_until,
        intake_current=at < valid_until,
        not_asked=intake_not_asked(intake),
    )


def clinic_phone() -> str:
    clinic = Clinic.current()
    return clinic.phone if clinic is not None else ""


def online_ims_refusal(patient: Patient, *, at: dt.datetime | None = None) -> str | None:
    """Return the kind words a patient sees when IMS cannot be booked online, or None."""
    if not screening_for(patient, at=at).stops_online_ims:
        return None
    phone = clinic_phone()
    text = _(
        "Thank you for answering the health questions. Some of your answers mean that a "
        "physiotherapist needs to talk with you before IMS can be booked, to make sure "
        "needling is safe for you."
    )
    if phone:
        return (
            text
            + " "
            + _("Please call us at %(phone)s and we will find the right visit with you.")
            % {"phone": phone}
        )
    return text + " " + _("Please call the clinic and we will find the right visit with you.")


# ---- Many patients at once (calendar, queue) ----------------------------------------------


def _latest_intakes(patients: QuerySet[Patient] | Iterable[int]) -> QuerySet[Intake]:
    """Return each patient's latest submitted intake, marked with whether it was decided."""
    latest = (
        Intake.objects.filter(patient=OuterRef("patient"), status=Intake.Status.SUBMITTED)
        .order_by("-submitted_at", "-pk")
        .values("pk")[:1]
    )
    return (
        Intake.objects.filter(
            patient__in=patients, status=Intake.Status.SUBMITTED, pk=Subquery(latest)
        )
        .annotate(decided=Exists(Clearance.objects.filter(intake=OuterRef("pk"))))
        .select_related("patient")
    )


def patients_needing_review(patient_ids: Iterable[int], *, at: dt.datetime) -> set[int]:
    """Return which of these patients have flags no practitioner has decided on (1 query)."""
    ids = set(patient_ids)
    if not ids:
        return set()
    # Only intakes still waiting for a decision are read (and their answers parsed): in a
    # running clinic that is few of the patients a calendar names.
    return {
        intake.patient_id
        for intake in _latest_intakes(ids).filter(
            ~Exists(Clearance.objects.filter(intake=OuterRef("pk")))
        )
        if intake_flags(intake, patient=intake.patient, at=at)
    }


def visits_needing_review(visits: Iterable[Visit], *, at: dt.datetime | None = None) -> set[int]:
    """Return the pks of the IMS visits to come or under way whose patient's flags wait for a
    practitioner's decision (one query): the mark on the calendar."""
    open_ims = [
        visit
        for visit in visits
        if visit.service.requires_ims_credential and visit.status in (*OPEN_STATUSES, IN_TREATMENT)
    ]
    waiting = patients_needing_review(
        {visit.patient_id for visit in open_ims}, at=at or timezone.now()
    )
    return {visit.pk for visit in open_ims if visit.patient_id in waiting}


@dataclass(frozen=True)
class VisitNote:
    """What a patient should know about one of their IMS visits, in plain words."""

    text: str
    link: str = ""  # where to act on it
    link_label: str = ""


def portal_visit_notes(
    patient: Patient, visits: Iterable[Visit], *, at: dt.datetime | None = None
) -> dict[int, list[VisitNote]]:
    """Return, per IMS visit, what the patient should know or do before it."""
    from django.urls import reverse

    at = at or timezone.now()
    ims = [v for v in visits if v.service.requires_ims_credential]
    if not ims:
        return {}
    screening = screening_for(patient, at=at)
    # The intake page offers both: filling the questions in and re-confirming old answers.
    intake_url = reverse("intake_start")
    months = intake_valid_months() if screening.intake is not None else 0
    notes: dict[int, list[VisitNote]] = {}
    for visit in ims:
        items: list[VisitNote] = []
        if screening.intake is None:
            items.append(
                VisitNote(
                    _("Please answer the health questions before this visit."),
                    intake_url,
                    _("Answer the health questions"),
                )
            )
        elif screening.valid_until is not None and screening.valid_until <= visit.start:
            items.append(
                VisitNote(
                    _(
                        "Your health answers will be more than %(months)d months old by this "
                        "visit. Please check and confirm them before you come."
                    )
                    % {"months": months},
                    intake_url,
                    _("Confirm your health answers"),
                )
            )
        elif screening.not_asked:
            items.append(
                VisitNote(
                    _(
                        "We have added a few questions about your chest and lungs. Please "
                        "check your health answers and answer the new questions before this "
                        "visit."
                    ),
                    intake_url,
                    _("Confirm your health answers"),
                )
            )
        if screening.needs_review:
            items.append(
                VisitNote(
                    _(
                        "A physiotherapist will review your health answers with you before "
                        "any needling."
                    )
                )
            )
        if items:
            notes[visit.pk] = items
    return notes


# ---- The practitioner's review queue -----------------------------------------------------


@dataclass
class QueueRow:
    patient: Patient
    text: str
    when: dt.datetime | None = None  # the deadline or next visit the row is about
    flags: list[Flag] = field(default_factory=list)

    @property
    def absolute_count(self) -> int:
        return sum(1 for flag in self.flags if flag.kind == ABSOLUTE)

    @property
    def relative_count(self) -> int:
        return sum(1 for flag in self.flags if flag.kind == RELATIVE)


@dataclass
class ReviewQueue:
    decisions: list[QueueRow]
    expiring: list[QueueRow]
    consents: list[QueueRow]

    @property
    def patient_ids(self) -> list[int]:
        seen: list[int] = []
        for row in [*self.decisions, *self.expiring, *self.consents]:
            if row.patient.pk not in seen:
                seen.append(row.patient.pk)
        return seen

    @property
    def empty(self) -> bool:
        return not (self.decisions or self.expiring or self.consents)


def _consent_gaps(patient_ids: set[int]) -> dict[int, str]:
    """Return, for patients without current needling consent, what is missing (2-3 queries)."""
    if not patient_ids:
        return {}
    latest = (
        ConsentVersion.objects.filter(document__for_needling=True, status=VersionStatus.PUBLISHED)
        .order_by("-number")
        .first()
    )
    if latest is None:
        return dict.fromkeys(patient_ids, _("No consent document has been published yet."))
    # Like consent.selectors.consent_state, for many patients in one query.
    last: dict[int, tuple[int, dt.datetime | None]] = {}
    current: set[int] = set()
    for patient_id, version_id, withdrawn_at in (
        ConsentSignature.objects.filter(
            patient_id__in=patient_ids, version__document__for_needling=True
        )
        .order_by("-signed_at", "-pk")
        .values_list("patient_id", "version_id", "withdrawn_at")
    ):
        last.setdefault(patient_id, (version_id, withdrawn_at))
        if version_id == latest.pk and withdrawn_at is None:
            current.add(patient_id)
    gaps: dict[int, str] = {}
    for patient_id in patient_ids - current:
        if patient_id not in last:
            gaps[patient_id] = _("Has not signed the consent to needling.")
        elif last[patient_id][1] is not None:
            gaps[patient_id] = _("Withdrew consent.")
        else:
            gaps[patient_id] = _("Signed an earlier version: must sign version %(number)d.") % {
                "number": latest.number or 0
            }
    return gaps


def review_queue(user: User, *, at: dt.datetime | None = None) -> ReviewQueue:
    """Return what waits for this practitioner (the owner: everyone) in a fixed few queries."""
    at = at or timezone.now()
    # The owner's queue holds everyone; a practitioner's their care team; the front desk none.
    if is_owner(user):
        visible = Patient.objects.all()
    elif is_practitioner(user):
        visible = patients_visible_to(user)
    else:
        visible = Patient.objects.none()
    months = intake_valid_months()
    zone = clinic_zone()
    intakes = list(_latest_intakes(visible))
    # One filter() call: the conditions hold for the same visit, whose start is the minimum.
    next_visit = dict(
        Patient.objects.filter(
            pk__in=visible.values("pk"),
            appointments__service__requires_ims_credential=True,
            appointments__status__in=OPEN_STATUSES,
            appointments__start__gte=at,
        )
        .values("pk")
        .annotate(first=Min("appointments__start"))
        .values_list("pk", "first")
    )
    decisions: list[QueueRow] = []
    expiring: list[QueueRow] = []
    for intake in intakes:
        patient = intake.patient
        assert intake.submitted_at is not None
        if not intake.decided:  # type: ignore[attr-defined]
            flags = intake_flags(intake, patient=patient, at=at)
            text = (
                _("New health answers raise flags: record a decision.")
                if flags
                else _("New health answers, no flags: record a decision.")
            )
            decisions.append(QueueRow(patient, text, intake.submitted_at, flags))
        valid_until = add_months(intake.submitted_at, months)
        upcoming = next_visit.get(patient.pk)
        if upcoming is not None and valid_until <= upcoming:
            expiring.append(
                QueueRow(
                    patient,
                    _(
                        "Health answers expire on %(expiry)s, before the next IMS visit on "
                        "%(visit)s."
                    )
                    % {
                        "expiry": clinic_date_text(valid_until, zone),
                        "visit": clinic_date_text(upcoming, zone),
                    },
                    valid_until,
                )
            )
        elif at <= valid_until <= at + dt.timedelta(days=QUEUE_EXPIRY_DAYS):
            expiring.append(
                QueueRow(
                    patient,
                    _("Health answers expire on %(expiry)s.")
                    % {"expiry": clinic_date_text(valid_until, zone)},
                    valid_until,
                )
            )
    soon = {
        patient_id
        for patient_id, start in next_visit.items()
        if start <= at + dt.timedelta(days=QUEUE_CONSENT_DAYS)
    }
    gaps = _consent_gaps(soon)
    known = {intake.patient_id: intake.patient for intake in intakes}
    missing_people = set(gaps) - set(known)
    if missing_people:
        known.update({p.pk: p for p in Patient.objects.filter(pk__in=missing_people)})
    consents = [
        QueueRow(
            known[patient_id],
            _("%(gap)s Next IMS visit %(visit)s.")
            % {"gap": gaps[patient_id], "visit": clinic_date_text(next_visit[patient_id], zone)},
            next_visit[patient_id],
        )
        for patient_id in gaps
    ]
    decisions.sort(key=lambda row: (-row.absolute_count, row.when or at))
    expiring.sort(key=lambda row: row.when or at)
    consents.sort(key=lambda row: row.when or at)
    return ReviewQueue(decisions, expiring, consents)


# Adverse events


def patient_adverse_events(patient: Patient) -> QuerySet[AdverseEvent]:
    """Return a patient's adverse events, latest onset first, with what the list shows."""
    return (
        AdverseEvent.objects.filter(patient=patient)
        .select_related("muscle", "session__appointment", "recorded_by", "acknowledged_by")
        .prefetch_related(
            Prefetch("updates", queryset=AdverseEventUpdate.objects.select_related("author"))
        )
    )


def adverse_event_alerts() -> QuerySet[AdverseEvent]:
    """Return the significant and serious events the owner has not acknowledged yet."""
    return AdverseEvent.objects.filter(
        status=EventStatus.RECORDED,
        severity__in=ALERTING_SEVERITIES,
        acknowledged_at__isnull=True,
    ).order_by("recorded_at", "pk")


@dataclass(frozen=True)
class ReportCounts:
    sessions: int
    sessions_with_event: int
    by_severity: dict[str, int]
    by_type: dict[str, int]
    not_counted: int  # events in the period not linked to a signed session


def adverse_event_counts(
    *, since: dt.date | None = None, until: dt.date | None = None
) -> ReportCounts:
    """Count signed needling sessions and the adverse events linked to them, in a period.

    The period is by the visit's date in the clinic's time zone (both ends included). Events
    count when linked to a signed session of the period; the others are counted apart.
    """
    zone = clinic_zone()
    # The signed sessions of the period, named from the patient's side (a note is signed
    # exactly when it has a signing time) so that safety does not import charting. Drafts
    # (opened by a follow-up check-in, not yet completed) are not counted yet.
    in_period: dict[str, Any] = {"signed_at__isnull": False}
    events = AdverseEvent.objects.filter(status=EventStatus.RECORDED)
    if since is not None:
        start = dt.datetime.combine(since, dt.time.min, tzinfo=zone)
        in_period["appointment__start__gte"] = start
        events = events.filter(onset__gte=start)
    if until is not None:
        end = dt.datetime.combine(until + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
        in_period["appointment__start__lt"] = end
        events = events.filter(onset__lt=end)
    linked = AdverseEvent.objects.filter(
        status=EventStatus.RECORDED,
        **{f"session__{lookup}": value for lookup, value in in_period.items()},
    )
    by_severity = dict(linked.values_list("severity").annotate(n=Count("pk")).order_by("severity"))
    by_type = dict(linked.values_list("event_type").annotate(n=Count("pk")).order_by("event_type"))
    with_event = linked.values("session").order_by().distinct().count()
    not_counted = events.exclude(pk__in=linked.values("pk")).count()
    # One filter() call: every condition holds for the same session, which Count counts.
    sessions = Patient.objects.filter(
        **{f"needling_sessions__{lookup}": value for lookup, value in in_period.items()}
    ).aggregate(n=Count("needling_sessions"))["n"]
    return ReportCounts(
        sessions=sessions,
        sessions_with_event=with_event,
        by_severity=by_severity,
        by_type=by_type,
        not_counted=not_counted,
    )
