"""Follow-up pages: the patient's check-in form (from a signed link) and the staff pages."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from imsclinic.clinic.selectors import clinic_date_text, clinic_zone
from imsclinic.core.access import record_refusal, refuse, require_perm
from imsclinic.core.audit import audit_record
from imsclinic.core.form_errors import error_summary, refusal_to_form
from imsclinic.core.models import Action
from imsclinic.core.permissions import is_owner, is_practitioner
from imsclinic.followup.errors import CheckInRefused
from imsclinic.followup.forms import CheckInForm
from imsclinic.followup.models import CheckIn, CheckInStatus, RedFlagAlert
from imsclinic.followup.selectors import (
    CALL_KEEP_PHONED,
    CALL_MAX_SESSION_AGE,
    answer_hours,
    open_alerts_for,
    recently_answered,
    unanswered_checkins,
)
from imsclinic.followup.services import alert_acknowledge, checkin_answer, checkin_phoned
from imsclinic.followup.tokens import TokenProblem, checkin_id_from
from imsclinic.patients.selectors import patient_for_user


def _link_problem(request: HttpRequest, status: int) -> HttpResponse:
    return render(request, "followup/link_problem.html", {"expired": status == 410}, status=status)


def _just_answered_key(checkin_id: int) -> str:
    return f"followup_just_answered_{checkin_id}"


@never_cache
def checkin_answer_view(request: HttpRequest, token: str) -> HttpResponse:
    """Show one check-in's form to whoever holds its link; POST stores the answers."""
    found = checkin_id_from(token)
    if isinstance(found, TokenProblem):
        # A link that does not open (expired, mistyped or forged) is a refused look, on record.
        expired = found is TokenProblem.EXPIRED
        record_refusal(
            request, object_type="checkin", reason="expired link" if expired else "invalid link"
        )
        return _link_problem(request, 410 if expired else 404)
    checkin = (
        CheckIn.objects.select_related("session__appointment", "patient")
        .filter(pk=found, status__in=[CheckInStatus.SENT, CheckInStatus.ANSWERED])
        .first()
    )
    if checkin is None:
        record_refusal(request, object_type="checkin", object_id=found, reason="not open")
        return _link_problem(request, 404)
    day = clinic_date_text(checkin.session.appointment.start)
    if checkin.status == CheckInStatus.ANSWERED:
        # The advice that follows from the answers shows once, to whoever just sent them;
        # anyone opening the link later learns nothing about the answers.
        just_answered = request.session.pop(_just_answered_key(checkin.pk), False)
        return render(
            request,
            "followup/checkin_done.html",
            {"checkin": checkin if just_answered else None, "just_answered": just_answered},
        )
    form = CheckInForm(
        request.POST if request.method == "POST" else None, thoracic=checkin.thoracic_precaution
    )
    if request.method == "POST" and form.is_valid():
        try:
            checkin_answer(checkin=checkin, answers=form.answers(), request=request)
        except CheckInRefused as refusal:
            if refusal.field:
                refusal_to_form(form, refusal)
            else:
                messages.info(request, str(refusal))
                return redirect("checkin_answer", token=token)
        else:
            request.session[_just_answered_key(checkin.pk)] = True
            return redirect("checkin_answer", token=token)
    return render(
        request,
        "followup/checkin_form.html",
        {"form": form, "checkin": checkin, "day": day, "errors": error_summary(form)},
        status=400 if form.is_bound else 200,
    )


def _alert_for(request: HttpRequest, alert_id: int, *, perm: str) -> RedFlagAlert:
    """Return the alert if the user may see its patient's clinical follow-up; else 404/403."""
    alert = (
        RedFlagAlert.objects.select_related(
            "patient",
            "practitioner",
            "acknowledged_by",
            "adverse_event",
            "checkin__session__appointment",
        )
        .filter(pk=alert_id)
        .first()
    )
    if alert is None:
        raise refuse(
            request, object_type="followup_alert", object_id=alert_id, reason="no such alert"
        )
    patient_for_user(
        request,
        user=request.user,
        patient_id=alert.patient_id,
        perm=perm,
        asked_for="followup_alert",
        asked_id=alert.pk,
    )
    return alert


@login_required
def alert_detail(request: HttpRequest, alert_id: int) -> HttpResponse:
    """Show a red flag: the answers, the session, the draft; acknowledge it here."""
    alert = _alert_for(request, alert_id, perm="followup.view_alert")
    user: Any = request.user
    audit_record(
        actor=user,
        action=Action.VIEW,
        object_type="followup_alert",
        object_id=alert.pk,
        patient_id=alert.patient_id,
        request=request,
    )
    return render(
        request,
        "followup/alert_detail.html",
        {
            "alert": alert,
            "checkin": alert.checkin,
            "patient": alert.patient,
            "zone": clinic_zone(),
            "can_acknowledge": alert.is_open
            and user.has_perm("followup.acknowledge_alert", alert.patient),
        },
    )


@require_POST
@login_required
def alert_acknowledge_view(request: HttpRequest, alert_id: int) -> HttpResponse:
    """Acknowledge a red flag, then show it again."""
    alert = _alert_for(request, alert_id, perm="followup.acknowledge_alert")
    try:
        alert_acknowledge(alert=alert, actor=request.user, request=request)
    except CheckInRefused as refusal:
        messages.info(request, str(refusal))
    else:
        messages.success(request, _("Acknowledged. The red-flag banner is cleared."))
    return redirect("followup_alert", alert_id=alert.pk)


@login_required
def followup_list(request: HttpRequest) -> HttpResponse:
    """List check-ins nobody answered in time (to phone), and open red flags for clinicians."""
    user: Any = request.user
    require_perm(request, "followup.view_list", object_type="followup_list")
    clinical = is_owner(user) or is_practitioner(user)
    checkins = list(unanswered_checkins(user=user))
    alerts = list(open_alerts_for(user))
    answered = list(recently_answered(user)) if clinical else []
    _audit_list_view(request, user, checkins=checkins, alerts=alerts, answered=answered)
    return render(
        request,
        "followup/followup_list.html",
        {
            "checkins": checkins,
            "alerts": alerts,
            "answered": answered,
            "clinical": clinical,
            "hours": answer_hours(),
            "keep_phoned_days": CALL_KEEP_PHONED.days,
            "max_session_days": CALL_MAX_SESSION_AGE.days,
            "zone": clinic_zone(),
        },
    )


def _audit_list_view(
    request: HttpRequest,
    user: Any,
    *,
    checkins: list[CheckIn],
    alerts: list[RedFlagAlert],
    answered: list[CheckIn],
) -> None:
    """Write one VIEW row per patient the list shows (one without a patient if it is empty)."""
    rows: dict[int, dict[str, list[int]]] = {}
    for key, items in (("checkins", checkins), ("alerts", alerts), ("answered", answered)):
        for item in items:
            shown = rows.setdefault(item.patient_id, {"checkins": [], "alerts": [], "answered": []})
            shown[key].append(item.pk)
    if not rows:
        audit_record(actor=user, action=Action.VIEW, object_type="followup_list", request=request)
        return
    for patient_id, detail in sorted(rows.items()):
        audit_record(
            actor=user,
            action=Action.VIEW,
            object_type="followup_list",
            patient_id=patient_id,
            request=request,
            detail=detail,
        )


@require_POST
@login_required
def checkin_phoned_view(request: HttpRequest, checkin_id: int) -> HttpResponse:
    """Note that the patient was phoned about an unanswered check-in."""
    user: Any = request.user
    require_perm(request, "followup.view_list", object_type="checkin")
    checkin = CheckIn.objects.filter(pk=checkin_id).first()
    if checkin is None:
        raise refuse(
            request, object_type="checkin", object_id=checkin_id, reason="no such check-in"
        )
    # Only for a patient on the user's list: others get the same 404 (audited).
    patient_for_user(
        request, user=user, patient_id=checkin.patient_id, asked_for="checkin", asked_id=checkin.pk
    )
    checkin_phoned(checkin=checkin, actor=user, request=request)
    messages.success(request, _("Noted: the patient was phoned."))
    return redirect("followup_list")
