"""The charting pages: assessments, session and physiotherapy notes, the chart, the to-do list."""

from __future__ import annotations

from django.urls import URLPattern, path

from imsclinic.charting.views import assessment, chart, physio, session, todo

urlpatterns: list[URLPattern] = [
    path(
        "staff/patients/<int:patient_id>/assessments/new/",
        assessment.assessment_new,
        name="assessment_new",
    ),
    path(
        "staff/assessments/<int:assessment_id>/",
        assessment.assessment_page,
        name="assessment_detail",
    ),
    path(
        "staff/assessments/<int:assessment_id>/sign/",
        assessment.assessment_sign_page,
        name="assessment_sign",
    ),
    path(
        "staff/assessments/<int:assessment_id>/addenda/",
        assessment.assessment_addendum_page,
        name="assessment_addendum",
    ),
    path("staff/charting/todo/", todo.todo_page, name="charting_todo"),
    path(
        "staff/appointments/<int:appointment_id>/session/",
        session.session_note,
        name="session_note",
    ),
    path(
        "staff/appointments/<int:appointment_id>/physio-note/",
        physio.physio_note,
        name="physio_note",
    ),
    path("staff/patients/<int:patient_id>/chart/", chart.chart_page, name="patient_chart"),
    path(
        "staff/patients/<int:patient_id>/chart/summary.pdf",
        chart.chart_summary_pdf,
        name="patient_chart_summary_pdf",
    ),
    path("portal/notes/", chart.portal_notes, name="portal_notes"),
    path("portal/notes/summary.pdf", chart.portal_notes_pdf, name="portal_notes_pdf"),
]
