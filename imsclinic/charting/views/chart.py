"""A patient's chart for the care team, its PDF summary, and the patient's own signed notes.

The chart page reads everything through `selectors.chart_for` (a fixed number of queries,
whatever the number of sessions) and draws the body chart from the rows already loaded.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from imsclinic.charting.body_chart import BodyChart, Needled, build_chart, side_label
from imsclinic.charting.catalogue import body_order
from imsclinic.charting.models import NeedlingSession, SignalFinding
from imsclinic.charting.pdf import chart_summary_pdf_bytes, portal_summary_pdf_bytes
from imsclinic.charting.selectors import (
    Chart,
    assessment_valid_months,
    chart_assessment_on_file,
    chart_for,
)
from imsclinic.clinic.selectors import clinic_zone
from imsclinic.core.audit import audit_record, audit_view
from imsclinic.core.http import SignedInRequest
from imsclinic.core.models import Action, ObjectType
from imsclinic.patients.access import patient_page
from imsclinic.patients.models import Patient
from imsclinic.patients.selectors import patient_for_user

CHART_PERM = "charting.view_chart"


def heat_of(sessions: Iterable[NeedlingSession]) -> tuple[BodyChart, list[dict[str, Any]]]:
    """Return the body chart of these sessions' rows and the same counts per muscle and side.

    The counts are listed in body order, as every list of muscles is.
    """
    per_muscle: dict[tuple[int, str], list[Any]] = {}
    needled = []
    for session in sessions:
        for row in session.rows.all():
            muscle = row.muscle
            needled.append(Needled(region=muscle.region, side=row.side, muscle_view=muscle.view))
            entry = per_muscle.setdefault((muscle.pk, row.side), [muscle, row.side, 0])
            entry[2] += 1
    table = [
        {"muscle": muscle.name, "side": side_label(side).capitalize(), "count": count}
        for muscle, side, count in sorted(
            per_muscle.values(), key=lambda e: (body_order(e[0]), e[1])
        )
    ]
    return build_chart(needled), table


@login_required
@require_GET
def chart_page(request: SignedInRequest, patient_id: int) -> HttpResponse:
    """Show a patient's whole chart: assessments, sessions with rows and addenda, body chart."""
    patient = patient_for_user(
        request,
        user=request.user,
        patient_id=patient_id,
        perm=CHART_PERM,
        asked_for=ObjectType.CHART,
    )
    chart = chart_for(patient)
    audit_view(request, ObjectType.CHART, patient=patient, object_id=patient.pk)
    body, counts = heat_of(chart.signed_sessions)
    for assessment in chart.assessments:
        assessment.present_signs = [  # type: ignore[attr-defined]
            sign for sign in assessment.signs.all() if sign.finding == SignalFinding.PRESENT
        ]
    context = {
        "patient": patient,
        "chart": chart,
        "body": body,
        "counts": counts,
        "on_file": chart_assessment_on_file(
            chart, now=timezone.now(), months=assessment_valid_months()
        ),
        "zone": clinic_zone(),
        "adverse_events_url": reverse("patient_adverse_events", kwargs={"patient_id": patient.pk}),
        "can_chart": request.user.has_perm("charting.add_note", patient),
    }
    return render(request, "charting/chart_page.html", context)


def _pdf_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_GET
def chart_summary_pdf(request: SignedInRequest, patient_id: int) -> HttpResponse:
    """Send the referral / insurer summary of a patient's signed notes as a PDF, audited."""
    patient = patient_for_user(
        request,
        user=request.user,
        patient_id=patient_id,
        perm=CHART_PERM,
        asked_for=ObjectType.CHART,
    )
    chart = chart_for(patient)
    audit_record(
        actor=request.user,
        action=Action.EXPORT,
        object_type=ObjectType.CHART_SUMMARY,
        object_id=patient.pk,
        patient=patient,
        request=request,
        detail={
            "format": "pdf",
            "sessions": len(chart.signed_sessions),
            "physio_notes": len(chart.signed_physio_notes),
        },
    )
    today = timezone.localdate()
    return _pdf_response(
        chart_summary_pdf_bytes(chart, author=request.user, zone=clinic_zone()),
        f"chart-summary-{patient.pk}-{today:%Y-%m-%d}.pdf",
    )


# ---------------------------------------------------------------------------------------------
# The patient's own notes (portal)


def plain_notes(chart: Chart) -> list[dict[str, Any]]:
    """Return the signed notes in words a patient reads: no codes, no lot numbers.

    Needling notes and physiotherapy notes together, newest visit first; `kind` says which.
    """
    notes: list[dict[str, Any]] = []
    for session in chart.signed_sessions:
        muscles: list[str] = []
        for row in session.rows.all():
            words = f"{row.muscle.name} ({side_label(row.side)})"
            if words not in muscles:
                muscles.append(words)
        notes.append(
            {
                "kind": "needling",
                "session": session,
                "start": session.appointment.start,
                "practitioner": session.practitioner.get_full_name(),
                "muscles": muscles,
                "before": session.nprs_before,
                "after": session.nprs_after,
                "advice": session.aftercare_notes,
                "advice_given": session.aftercare_given,
                "addenda": list(session.addenda.all()),
            }
        )
    for physio in chart.signed_physio_notes:
        notes.append(
            {
                "kind": "physio",
                "physio": physio,
                "start": physio.appointment.start,
                "practitioner": physio.practitioner.get_full_name(),
                "addenda": list(physio.addenda.all()),
            }
        )
    notes.sort(key=lambda note: note["start"], reverse=True)
    return notes


@patient_page
@require_GET
def portal_notes(request: SignedInRequest, patient: Patient) -> HttpResponse:
    """Show the patient their own signed treatment notes in plain language."""
    chart = chart_for(patient)
    audit_view(request, ObjectType.PORTAL_NOTES, patient=patient, object_id=patient.pk)
    return render(
        request,
        "charting/portal_notes.html",
        {"patient": patient, "notes": plain_notes(chart), "zone": clinic_zone()},
    )


@patient_page
@require_GET
def portal_notes_pdf(request: SignedInRequest, patient: Patient) -> HttpResponse:
    """Send the patient a PDF of their own signed notes, audited."""
    chart = chart_for(patient)
    notes = plain_notes(chart)
    audit_record(
        actor=request.user,
        action=Action.EXPORT,
        object_type=ObjectType.PORTAL_NOTES,
        object_id=patient.pk,
        patient=patient,
        request=request,
        detail={"format": "pdf"},
    )
    today = timezone.localdate()
    return _pdf_response(
        portal_summary_pdf_bytes(patient, notes, zone=clinic_zone()),
        f"my-treatment-notes-{today:%Y-%m-%d}.pdf",
    )
