"""Follow-up pages: the patient's check-in form (from a signed link) and the staff pages."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from imsclinic.clinic.selectors import clinic_date_text, clinic_zone
from imsclinic.core.access import record_refusal, refuse, require_perm
from imsclinic.core.audit import audit_record_per_patient, audit_view
from imsclinic.core.form_errors import error_summary
from imsclinic.core.http import SignedInRequest
from imsclinic.core.models import Action, ObjectType
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
            request,
            object_type=ObjectType.CHECKIN,
            reason="expired link" if expired else "invalid link",
        )
        return _link_problem(request, 410 if expired else 404)
    checkin = (
        CheckIn.objects.select_related("session__appointment", "patient")
        .filter(pk=found, status__in=[CheckInStatus.SENT, CheckInStatus.ANSWERED])
        .first()
    )
    if checkin is None:
        record_refusal(request, object_type=ObjectType.CHECKIN, object_id=found, reason="not open")
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
            # Answered or closed meanwhile: the link now says so.
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


def _alert_for(request: SignedInRequest, alert_id: int, *, perm: str) -> RedFlagAlert:
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
            request,
            object_type=ObjectType.FOLLOWUP_ALERT,
            object_id=alert_id,
            reason="no such alert",
        )
    patient_for_user(
        request,
        user=request.user,
        patient_id=alert.patient_id,
        perm=perm,
        asked_for=ObjectType.FOLLOWUP_ALERT,
        asked_id=alert.pk,
    )
    return alert


@login_required
def alert_detail(request: SignedInRequest, alert_id: int) -> HttpResponse:
    """Show a red flag: the answers, the session, the draft; acknowledge it here."""
    alert = _alert_for(request, alert_id, perm="followup.view_alert")
    user = request.user
    audit_view(request, ObjectType.FOLLOWUP_ALERT, patient=alert.patient, object_id=alert.pk)
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
def alert_acknowledge_view(request: SignedInRequest, alert_id: int) -> HttpResponse:
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
def followup_list(request: SignedInRequest) -> HttpResponse:
    """List check-ins nobody answered in time (to phone), and open red flags for clinicians."""
    user = request.user
    require_perm(request, "followup.view_list", object_type=ObjectType.FOLLOWUP_LIST)
    clinical = is_owner(user) or is_practitioner(user)
    checkins = list(unanswered_checkins(user=user))
    alerts = list(open_alerts_for(user))
    answered = list(recently_answered(user)) if clinical else []
    shown = _shown_per_patient(checkins=checkins, alerts=alerts, answered=answered)
    if shown:
        audit_record_per_patient(
            actor=user,
            action=Action.VIEW,
            object_type=ObjectType.FOLLOWUP_LIST,
            shown=shown,
            request=request,
        )
    else:
        audit_view(request, ObjectType.FOLLOWUP_LIST)
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


def _shown_per_patient(
    *, checkins: list[CheckIn], alerts: list[RedFlagAlert], answered: list[CheckIn]
) -> dict[int, dict[str, list[int]]]:
    """Return what the list shows of each patient, by patient id in order, for the audit."""
    shown: dict[int, dict[str, list[int]]] = {}
    for key, items in (("checkins", checkins), ("alerts", alerts), ("answered", answered)):
        for item in items:
            row = shown.setdefault(item.patient_id, {"checkins": [], "alerts": [], "answered": []})
            row[key].append(item.pk)
    return dict(sorted(shown.items()))


@require_POST
@login_required
def checkin_phoned_view(request: SignedInRequest, checkin_id: int) -> HttpResponse:
    """Note that the patient was phoned about an unanswered check-in."""
    user = request.user
    require_perm(request, "followup.view_list", object_type=ObjectType.CHECKIN)
    checkin = CheckIn.objects.filter(pk=checkin_id).first()
    if checkin is None:
        raise refuse(
            request, object_type=ObjectType.CHECKIN, object_id=checkin_id, reason="no such check-in"
        )
    # Only for a patient on the user's list: others get the same 404 (audited).
    patient_for_user(
        request,
        user=user,
        patient_id=checkin.patient_id,
        asked_for=ObjectType.CHECKIN,
        asked_id=checkin.pk,
    )
    checkin_phoned(checkin=checkin, actor=user, request=request)
    messages.success(request, _("Noted: the patient was phoned."))
    return redirect("followup_list")
