"""Screening and clearance pages for staff (the patient's intake pages live in intake)."""

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
]
