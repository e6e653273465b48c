"""Progress pages: a chart and a table per instrument, for the care team and for the patient."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from imsclinic.clinic.selectors import clinic_zone
from imsclinic.core.audit import audit_view
from imsclinic.core.http import SignedInRequest
from imsclinic.core.models import ObjectType
from imsclinic.outcomes.errors import OutcomeRefused
from imsclinic.outcomes.instruments import definition
from imsclinic.outcomes.models import VOID_REASON_MAX_LENGTH, OutcomeResult
from imsclinic.outcomes.progress import (
    Series,
    SeriesPoint,
    SessionPair,
    format_score,
    points_text,
    subject,
    summary,
)
from imsclinic.outcomes.selectors import Progress, StruckOut, course_progress
from imsclinic.outcomes.services import result_void
from imsclinic.patients.access import patient_page
from imsclinic.patients.models import Patient
from imsclinic.patients.selectors import patient_for_user

VIEW_PERM = "outcomes.view_results"


def _date_text(moment: dt.datetime, zone: zoneinfo.ZoneInfo) -> str:
    return formats.date_format(moment.astimezone(zone), "j M Y")


def _done_text(done: int) -> str:
    """Say when a score was measured: before treatment, or after how many sessions."""
    if done == 0:
        return _("Before treatment")
    return ngettext("After %(n)d session", "After %(n)d sessions", done) % {"n": done}


def _session_text(number: int) -> str:
    return _("Session %(n)d") % {"n": number}


def _change_text(point: SeriesPoint) -> str:
    if point.is_baseline:
        return _("Baseline")
    if point.change is None:
        return "—"
    if point.change.improvement == 0:
        return _("No change")
    amount = points_text(abs(point.change.improvement))
    if point.change.improvement > 0:
        return _("%(amount)s better") % {"amount": amount}
    return _("%(amount)s worse") % {"amount": amount}


def _important_text(point: SeriesPoint) -> str:
    if point.change is None:
        return "—"
    return _("Yes") if point.change.meets_mcid else _("Not yet")


def _series_view(
    series: Series, zone: zoneinfo.ZoneInfo, x_range: tuple[int, int]
) -> dict[str, Any]:
    inst = series.instrument
    code = inst.code
    rows = []
    chart_points = []
    for point in series.points:
        date = _date_text(point.taken_at, zone)
        session = _done_text(point.sessions_done)
        rows.append(
            {
                "date": date,
                "session": session,
                "score": format_score(point.score) if point.score is not None else None,
                "change": _change_text(point),
                "important": _important_text(point),
                "is_baseline": point.is_baseline,
                "result_id": point.result_id,
            }
        )
        if point.score is not None:
            chart_points.append(
                {"x": point.sessions_done, "y": point.score, "label": f"{session} · {date}"}
            )
    activities = [
        {
            "label": activity.label,
            "first": format_score(activity.baseline),
            "latest": format_score(activity.latest),
            "change": (
                _("No change")
                if activity.change.improvement == 0
                else (
                    _("%(amount)s better")
                    if activity.change.improvement > 0
                    else _("%(amount)s worse")
                )
                % {"amount": points_text(abs(activity.change.improvement))}
            ),
            "important": _("Yes") if activity.change.meets_mcid else _("Not yet"),
        }
        for activity in series.activities
    ]
    direction = _("higher is better") if inst.higher_is_better else _("lower is better")
    return {
        "code": code,
        "dom_id": f"progress-{code.lower()}",
        "title": f"{_('Activity score') if code == 'PSFS' else subject(code)} ({code})",
        "name": inst.name,
        "range": _("%(low)s to %(high)s, %(direction)s")
        % {
            "low": format_score(inst.score_min),
            "high": format_score(inst.score_max),
            "direction": direction,
        },
        "mcid": points_text(inst.mcid),
        "summary": summary(series),
        "rows": rows,
        "activities": activities,
        "chart": {
            "id": f"chart-{code.lower()}",
            "kind": "trend",
            "xMin": x_range[0],
            "xMax": x_range[1],
            "yMin": inst.score_min,
            "yMax": inst.score_max,
            "baseline": series.baseline.score if series.baseline else None,
            "band": [series.band.low, series.band.high] if series.band else None,
            "points": chart_points,
        },
    }


def _pairs_view(pairs: list[SessionPair], zone: zoneinfo.ZoneInfo) -> dict[str, Any] | None:
    if not pairs:
        return None
    rows = []
    for pair in pairs:
        if pair.immediate_change is None:
            effect = "—"
        elif pair.immediate_change > 0:
            effect = _("%(amount)s less pain") % {"amount": points_text(pair.immediate_change)}
        elif pair.immediate_change < 0:
            effect = _("%(amount)s more pain") % {"amount": points_text(-pair.immediate_change)}
        else:
            effect = _("No change")
        rows.append(
            {
                "session": _session_text(pair.session),
                "date": _date_text(pair.taken_at, zone),
                "before": format_score(pair.before) if pair.before is not None else "—",
                "after": format_score(pair.after) if pair.after is not None else "—",
                "effect": effect,
                "before_id": pair.before_id,
                "after_id": pair.after_id,
            }
        )
    return {
        "rows": rows,
        "chart": {
            "id": "chart-nprs-sessions",
            "kind": "pairs",
            "yMin": 0,
            "yMax": 10,
            "labels": [str(p.session) for p in pairs],
            "before": [p.before for p in pairs],
            "after": [p.after for p in pairs],
        },
    }


def _struck_view(struck: list[StruckOut], zone: zoneinfo.ZoneInfo) -> list[dict[str, str]]:
    return [
        {
            "what": f"{definition(item.instrument).name} ({item.instrument})",
            "date": _date_text(item.taken_at, zone),
            "score": format_score(item.score) if item.score is not None else _("Not scored"),
            "reason": item.reason,
            "struck": _("%(date)s by %(who)s")
            % {"date": _date_text(item.struck_at, zone), "who": item.struck_by},
        }
        for item in struck
    ]


def progress_context(progress: Progress, *, can_strike_out: bool = False) -> dict[str, Any]:
    """Build what the progress templates show and what progress.js draws."""
    zone = clinic_zone()
    numbers = [p.sessions_done for s in progress.series for p in s.points]
    x_min = min(numbers, default=0)
    x_range = (x_min, max([*numbers, progress.sessions, x_min + 1]))
    series = [_series_view(s, zone, x_range) for s in progress.series]
    pairs = _pairs_view(progress.pairs, zone)
    charts = [s["chart"] for s in series]
    if pairs:
        charts.append(pairs["chart"])
    data = {
        "charts": charts,
        "strings": {
            "score": _("Score"),
            "session": _("Sessions completed"),
            "pairSession": _("Session"),
            "start": _("Before treatment"),
            "startShort": _("Start"),
            "baseline": _("Baseline"),
            "band": _("Not yet a clinically important change"),
            "before": _("Before needling"),
            "after": _("After needling"),
        },
    }
    return {
        "series": series,
        "pairs": pairs,
        "sessions": progress.sessions,
        "progress_data": data,
        "can_strike_out": can_strike_out,
        "reason_max_length": VOID_REASON_MAX_LENGTH,
        "struck": _struck_view(progress.struck, zone) if can_strike_out else [],
    }


@login_required
@require_GET
def patient_progress(request: SignedInRequest, patient_id: int) -> HttpResponse:
    """Show the care team a patient's progress: a chart and a table per instrument."""
    patient = patient_for_user(
        request,
        user=request.user,
        patient_id=patient_id,
        perm=VIEW_PERM,
        asked_for=ObjectType.OUTCOME_PROGRESS,
    )
    can_strike_out = request.user.has_perm("outcomes.void_result", patient)
    context = progress_context(course_progress(patient), can_strike_out=can_strike_out)
    audit_view(request, ObjectType.OUTCOME_PROGRESS, patient=patient, object_id=patient.pk)
    return render(request, "outcomes/progress_staff.html", {"patient": patient, **context})


@require_POST
@login_required
def result_strike_out(request: SignedInRequest, patient_id: int, result_id: int) -> HttpResponse:
    """Strike out a wrong result with the reason; it leaves the charts and stays marked."""
    patient = patient_for_user(
        request,
        user=request.user,
        patient_id=patient_id,
        perm=VIEW_PERM,
        asked_for=ObjectType.OUTCOME_PROGRESS,
    )
    result = get_object_or_404(
        OutcomeResult.objects.select_related("patient"), pk=result_id, patient=patient
    )
    try:
        result_void(
            result=result,
            reason=request.POST.get("reason", ""),
            actor=request.user,
            request=request,
        )
    except OutcomeRefused as refusal:
        for message in refusal.messages:
            messages.error(request, message)
    else:
        messages.success(
            request,
            _(
                "Struck out the %(name)s of %(date)s. It stays in the record, marked, with "
                "the reason."
            )
            % {
                "name": definition(result.instrument).name,
                "date": _date_text(result.taken_at, clinic_zone()),
            },
        )
    return redirect("patient_progress", patient_id=patient.pk)


@require_GET
@patient_page
def portal_progress(request: SignedInRequest, patient: Patient) -> HttpResponse:
    """Show the signed-in patient their own progress: a chart and a table per questionnaire."""
    context = progress_context(course_progress(patient))
    audit_view(request, ObjectType.OUTCOME_PROGRESS, patient=patient, object_id=patient.pk)
    return render(request, "outcomes/progress_portal.html", {"patient": patient, **context})
