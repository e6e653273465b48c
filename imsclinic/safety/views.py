"""Staff pages: screening and clearance, the review queue, the rules, adverse events."""

from __future__ import annotations

from typing import Any, cast
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from imsclinic.clinic.selectors import clinic_zone
from imsclinic.core.access import refuse, require_perm
from imsclinic.core.audit import audit_view
from imsclinic.core.form_errors import refusal_to_form
from imsclinic.core.http import SignedInRequest
from imsclinic.core.models import ObjectType
from imsclinic.core.params import id_param
from imsclinic.intake.models import Intake
from imsclinic.patients.models import Patient
from imsclinic.patients.selectors import patient_for_user
from imsclinic.safety.ae_rates import (
    BOYCE_2020,
    BOYCE_MAJOR_EVENTS,
    BRADY_2014,
    BRADY_SIGNIFICANT_UPPER_BOUND,
    build_report,
)
from imsclinic.safety.errors import AdverseEventRefused, ClearanceRefused
from imsclinic.safety.forms import (
    AdverseEventForm,
    AdverseEventUpdateForm,
    ClearanceForm,
    ReportPeriodForm,
)
from imsclinic.safety.models import AdverseEvent, AdverseEventType, EventStatus, Severity
from imsclinic.safety.readiness import needling_readiness
from imsclinic.safety.screening import ABSOLUTE, QUESTIONS, default_rules, describe_rule
from imsclinic.safety.selectors import (
    adverse_event_counts,
    clearance_history,
    review_queue,
    screening_for,
)
from imsclinic.safety.selectors import patient_adverse_events as patient_adverse_events_query
from imsclinic.safety.services import (
    adverse_event_acknowledge,
    adverse_event_record,
    adverse_event_update_add,
    clearance_record,
)


@login_required
def patient_screening(request: SignedInRequest, patient_id: int) -> HttpResponse:
    """Show a patient's flags, decisions and readiness; POST records a decision."""
    patient = patient_for_user(
        request,
        user=request.user,
        patient_id=patient_id,
        perm="safety.view_screening",
        asked_for=ObjectType.SCREENING,
    )
    now = timezone.now()
    screening = screening_for(patient, at=now)
    form = ClearanceForm(initial={"intake": screening.intake.pk if screening.intake else None})
    if request.method == "POST":
        form = ClearanceForm(request.POST)
        if form.is_valid():
            intake = Intake.objects.filter(pk=form.cleaned_data["intake"], patient=patient).first()
            try:
                if intake is None:
                    raise ClearanceRefused(
                        _("The patient has no submitted health questions to decide on.")
                    )
                clearance_record(
                    patient=patient,
                    intake=intake,
                    decision=form.cleaned_data["decision"],
                    reason=form.cleaned_data["reason"],
                    actor=request.user,
                    request=request,
                )
            except ClearanceRefused as refusal:
                refusal_to_form(form, refusal)
            else:
                messages.success(request, _("Recorded the decision."))
                return redirect("patient_screening", patient_id=patient.pk)
    audit_view(request, ObjectType.SCREENING, patient=patient, object_id=patient.pk)
    context = {
        "patient": patient,
        "screening": screening,
        "history": clearance_history(patient),
        "readiness": needling_readiness(patient, at=now),
        "form": form,
        "can_decide": screening.intake is not None,
        "zone": clinic_zone(),
    }
    return render(request, "safety/patient_screening.html", context)


@login_required
def review_queue_page(request: SignedInRequest) -> HttpResponse:
    """List what waits for the practitioner: decisions, expiring intakes, missing consents."""
    require_perm(request, "safety.view_review_queue", object_type=ObjectType.SCREENING_QUEUE)
    queue = review_queue(request.user)
    audit_view(request, ObjectType.SCREENING_QUEUE, detail={"shown": queue.patient_ids})
    return render(request, "safety/review_queue.html", {"queue": queue, "zone": clinic_zone()})


@login_required
def screening_rules_page(request: SignedInRequest) -> HttpResponse:
    """Show the screening rules in words, for clinicians to review."""
    if not request.user.is_clinic_staff:
        raise PermissionDenied
    rules = [
        {
            "rule": rule,
            "reason": _(rule.reason),
            "condition": describe_rule(rule),
            "absolute": rule.kind == ABSOLUTE,
            "detail_from": QUESTIONS[rule.detail].label if rule.detail else "",
        }
        for rule in default_rules()
    ]
    return render(request, "safety/screening_rules.html", {"rules": rules})


# Adverse events


def _event_for(request: SignedInRequest, event_id: int, *, perm: str) -> AdverseEvent:
    """Return the event if this user may see its patient's adverse events; else 404 or 403."""
    event = (
        AdverseEvent.objects.select_related(
            "patient", "muscle", "session__appointment", "recorded_by", "acknowledged_by"
        )
        .filter(pk=event_id)
        .first()
    )
    if event is None:
        raise refuse(
            request,
            object_type=ObjectType.ADVERSE_EVENT,
            object_id=event_id,
            reason="no such event",
        )
    patient_for_user(
        request,
        user=request.user,
        patient_id=event.patient_id,
        perm=perm,
        asked_for=ObjectType.ADVERSE_EVENT,
        asked_id=event.pk,
    )
    return event


def _session_choices(patient: Patient, zone: ZoneInfo) -> list[tuple[int, str]]:
    sessions = patient.needling_sessions.select_related("appointment").order_by(
        "-appointment__start"
    )
    return [
        (
            s.pk,
            f"{s.appointment.start.astimezone(zone):%Y-%m-%d %H:%M}"
            + ("" if s.is_signed else f" ({_('draft')})"),
        )
        for s in sessions
    ]


def _muscles() -> QuerySet[Any]:
    """Return the muscle catalogue, reached through the event's own link to it.

    Charting imports safety (the needling interlock), so safety does not import charting.
    """
    model = cast("type[Model]", AdverseEvent._meta.get_field("muscle").related_model)
    return model._default_manager.all()


def _muscle_choices() -> list[tuple[str, list[tuple[int, str]]]]:
    """Return the muscles offered in charts by region, in the body order every list uses."""
    catalogue: Any = _muscles()
    groups: dict[str, list[tuple[int, str]]] = {}
    for muscle in catalogue.filter(is_active=True).in_body_order():
        groups.setdefault(str(muscle.region_label).capitalize(), []).append(
            (muscle.pk, str(muscle.name))
        )
    return list(groups.items())


@login_required
def adverse_event_new(request: SignedInRequest, patient_id: int) -> HttpResponse:
    """Record an adverse event for a patient, optionally tied to one of their sessions."""
    patient = patient_for_user(
        request,
        user=request.user,
        patient_id=patient_id,
        perm="safety.record_adverse_event",
        asked_for=ObjectType.ADVERSE_EVENT_FORM,
    )
    zone = clinic_zone()
    sessions = _session_choices(patient, zone)
    session_ids = {pk for pk, _label in sessions}
    options: dict[str, Any] = {"sessions": sessions, "muscles": _muscle_choices(), "zone": zone}
    # ?draft=<id>: complete a draft a red-flag follow-up check-in opened (prefilled from it).
    wanted_draft = id_param(request.GET.get("draft"))
    draft = (
        AdverseEvent.objects.filter(
            pk=wanted_draft, patient=patient, status=EventStatus.DRAFT
        ).first()
        if wanted_draft is not None
        else None
    )
    if request.method == "POST":
        form = AdverseEventForm(request.POST, **options)
        if form.is_valid():
            data = form.cleaned_data
            session = None
            if data["session"] is not None and data["session"] in session_ids:
                session = patient.needling_sessions.select_related("appointment").get(
                    pk=data["session"]
                )
            muscle = (
                _muscles().filter(pk=data["muscle"]).first() if data["muscle"] is not None else None
            )
            try:
                event = adverse_event_record(
                    patient=patient,
                    event_type=data["event_type"],
                    severity=data["severity"],
                    onset=data["onset"],
                    action_taken=data["action_taken"],
                    outcome=data["outcome"],
                    site=data["site"],
                    description=data["description"],
                    session=session,
                    muscle=muscle,
                    draft=draft,
                    actor=request.user,
                    request=request,
                )
            except AdverseEventRefused as refusal:
                refusal_to_form(form, refusal)
            else:
                if event.alerts_owner:
                    messages.success(
                        request, _("Recorded the adverse event. The clinic owner is alerted.")
                    )
                else:
                    messages.success(request, _("Recorded the adverse event."))
                return redirect("adverse_event_detail", event_id=event.pk)
    else:
        wanted = id_param(request.GET.get("session"))
        initial: dict[str, Any] = {
            "onset": timezone.now().astimezone(zone).replace(second=0, microsecond=0, tzinfo=None)
        }
        if wanted is not None and wanted in session_ids:
            initial["session"] = wanted
        if draft is not None:
            initial.update(
                event_type=draft.event_type,
                onset=draft.onset.astimezone(zone).replace(second=0, microsecond=0, tzinfo=None),
                session=draft.session_id,
                description=draft.description,
            )
        form = AdverseEventForm(initial=initial, **options)
    audit_view(request, ObjectType.ADVERSE_EVENT_FORM, patient=patient, object_id=patient.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "safety/adverse_event_new.html",
        {"patient": patient, "form": form, "draft": draft},
        status=status,
    )


@login_required
def patient_adverse_events(request: SignedInRequest, patient_id: int) -> HttpResponse:
    """List a patient's adverse events."""
    patient = patient_for_user(
        request,
        user=request.user,
        patient_id=patient_id,
        perm="safety.view_adverse_events",
        asked_for=ObjectType.ADVERSE_EVENTS,
    )
    events = list(patient_adverse_events_query(patient))
    audit_view(
        request,
        ObjectType.ADVERSE_EVENTS,
        patient=patient,
        object_id=patient.pk,
        detail={"shown": [event.pk for event in events]},
    )
    return render(
        request,
        "safety/patient_adverse_events.html",
        {
            "patient": patient,
            "events": events,
            "can_record": request.user.has_perm("safety.record_adverse_event", patient),
            "zone": clinic_zone(),
        },
    )


@login_required
def adverse_event_detail(request: SignedInRequest, event_id: int) -> HttpResponse:
    """Show one adverse event and its follow-ups; the owner acknowledges a serious one here."""
    event = _event_for(request, event_id, perm="safety.view_adverse_events")
    return _render_event_detail(request, event)


def _render_event_detail(
    request: SignedInRequest,
    event: AdverseEvent,
    *,
    update_form: AdverseEventUpdateForm | None = None,
    status: int = 200,
) -> HttpResponse:
    """Render an event's page with its updates and, for the care team, the update form."""
    audit_view(request, ObjectType.ADVERSE_EVENT, patient=event.patient, object_id=event.pk)
    can_update = not event.is_draft and request.user.has_perm(
        "safety.record_adverse_event", event.patient
    )
    if can_update and update_form is None:
        update_form = AdverseEventUpdateForm(current=event.severity)
    return render(
        request,
        "safety/adverse_event_detail.html",
        {
            "event": event,
            "patient": event.patient,
            "updates": list(event.updates.select_related("author")),
            "update_form": update_form if can_update else None,
            "can_acknowledge": event.alerts_owner
            and event.acknowledged_at is None
            and request.user.has_perm("safety.acknowledge_adverse_event"),
            "zone": clinic_zone(),
        },
        status=status,
    )


@require_POST
@login_required
def adverse_event_update(request: SignedInRequest, event_id: int) -> HttpResponse:
    """Add a follow-up to an event (the care team, the owner); a bad one keeps what was typed."""
    event = _event_for(request, event_id, perm="safety.record_adverse_event")
    if event.is_draft:
        messages.error(request, _("This event is still a draft. Complete it first."))
        return redirect("adverse_event_detail", event_id=event.pk)
    severity_before = event.severity
    form = AdverseEventUpdateForm(request.POST, current=event.severity)
    if form.is_valid():
        try:
            adverse_event_update_add(
                event=event,
                outcome=form.cleaned_data["outcome"],
                severity=form.cleaned_data.get("severity") or None,
                actor=request.user,
                request=request,
            )
        except AdverseEventRefused as refusal:
            refusal_to_form(form, refusal)
        else:
            # The service saved a locked copy: read the severity it left.
            event.refresh_from_db(fields=["severity", "status"])
            if event.severity != severity_before and event.alerts_owner:
                # Mild to significant, or significant to serious: the owner's alert went out.
                messages.success(request, _("Added the update. The clinic owner is alerted."))
            else:
                messages.success(request, _("Added the update."))
            return redirect(f"{reverse('adverse_event_detail', args=[event.pk])}#updates")
    return _render_event_detail(request, event, update_form=form, status=400)


@require_POST
@login_required
def adverse_event_acknowledge_view(request: SignedInRequest, event_id: int) -> HttpResponse:
    """Acknowledge an event (the owner), then go back where the button was."""
    event = _event_for(request, event_id, perm="safety.acknowledge_adverse_event")
    try:
        adverse_event_acknowledge(event=event, actor=request.user, request=request)
    except AdverseEventRefused as refusal:
        messages.info(request, str(refusal))
    else:
        messages.success(request, _("Acknowledged. The alert is cleared."))
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect("adverse_event_detail", event_id=event.pk)


@login_required
def adverse_event_report(request: SignedInRequest) -> HttpResponse:
    """Show the clinic's adverse event rates per signed session beside the published ones."""
    require_perm(
        request, "safety.view_adverse_event_report", object_type=ObjectType.ADVERSE_EVENT_REPORT
    )
    form = ReportPeriodForm(request.GET or None)
    since = until = None
    if form.is_bound and form.is_valid():
        since, until = form.cleaned_data["since"], form.cleaned_data["until"]
    counts = adverse_event_counts(since=since, until=until)
    report = build_report(
        sessions=counts.sessions,
        sessions_with_event=counts.sessions_with_event,
        by_severity=counts.by_severity,
        by_type=counts.by_type,
        severities=Severity.values,
        types=AdverseEventType.values,
    )
    audit_view(
        request,
        ObjectType.ADVERSE_EVENT_REPORT,
        detail={
            "since": since.isoformat() if since else None,
            "until": until.isoformat() if until else None,
        },
    )
    severity_names = dict(Severity.choices)
    type_names = dict(AdverseEventType.choices)
    return render(
        request,
        "safety/adverse_event_report.html",
        {
            "form": form,
            "report": report,
            "not_counted": counts.not_counted,
            "severity_rows": [(severity_names[line.key], line) for line in report.by_severity],
            "type_rows": [(type_names[line.key], line) for line in report.by_type],
            "brady": BRADY_2014,
            "boyce": BOYCE_2020,
            "boyce_major_events": BOYCE_MAJOR_EVENTS,
            "brady_upper_bound": BRADY_SIGNIFICANT_UPPER_BOUND,
        },
        status=400 if form.is_bound and not form.is_valid() else 200,
    )
