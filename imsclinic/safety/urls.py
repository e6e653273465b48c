"""Screening, clearance and adverse event pages for staff (intake pages live in intake)."""

from django.urls import path

from imsclinic.safety import views

urlpatterns = [
    path("staff/screening/", views.review_queue_page, name="screening_queue"),
    path("staff/screening/rules/", views.screening_rules_page, name="screening_rules"),
    path(
        "staff/patients/<int:patient_id>/screening/",
        views.patient_screening,
        name="patient_screening",
    ),
    path(
        "staff/patients/<int:patient_id>/adverse-events/",
        views.patient_adverse_events,
        name="patient_adverse_events",
    ),
    path(
        "staff/patients/<int:patient_id>/adverse-events/new/",
        views.adverse_event_new,
        name="adverse_event_new",
    ),
    path(
        "staff/adverse-events/<int:event_id>/",
        views.adverse_event_detail,
        name="adverse_event_detail",
    ),
    path(
        "staff/adverse-events/<int:event_id>/update/",
        views.adverse_event_update,
        name="adverse_event_update",
    ),
    path(
        "staff/adverse-events/<int:event_id>/acknowledge/",
        views.adverse_event_acknowledge_view,
        name="adverse_event_acknowledge",
    ),
    path("staff/reports/adverse-events/", views.adverse_event_report, name="adverse_event_report"),
]
