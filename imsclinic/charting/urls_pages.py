"""Charting pages: the session note, the chart, the portal notes and the PDFs."""

from __future__ import annotations

from django.urls import URLPattern, path

from imsclinic.charting import views_chart as views_chart
from imsclinic.charting import views_session as views_session

urlpatterns: list[URLPattern] = [
    path(
        "staff/appointments/<int:appointment_id>/session/",
        views_session.session_note,
        name="session_note",
    ),
    path("staff/patients/<int:patient_id>/chart/", views_chart.chart_page, name="patient_chart"),
    path(
        "staff/patients/<int:patient_id>/chart/summary.pdf",
        views_chart.chart_summary_pdf,
        name="patient_chart_summary_pdf",
    ),
    path("portal/notes/", views_chart.portal_notes, name="portal_notes"),
    path("portal/notes/summary.pdf", views_chart.portal_notes_pdf, name="portal_notes_pdf"),
]
