"""Intake pages: the patient's questionnaire under portal/, the staff's views under staff/."""

from django.urls import path

from imsclinic.intake import views

urlpatterns = [
    path("portal/intake/", views.intake_start, name="intake_start"),
    path("portal/intake/review/", views.intake_review, name="intake_review"),
    path("portal/intake/done/", views.intake_done, name="intake_done"),
    path("portal/intake/reconfirm/", views.intake_reconfirm, name="intake_reconfirm"),
    path("portal/intake/<slug:slug>/", views.intake_section, name="intake_section"),
    path(
        "staff/patients/<int:patient_id>/intake/",
        views.staff_intake,
        name="staff_intake",
    ),
    path(
        "staff/patients/<int:patient_id>/intake/paper/",
        views.staff_intake_paper,
        name="staff_intake_paper",
    ),
]
