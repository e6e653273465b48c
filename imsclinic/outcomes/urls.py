"""Outcome measure pages (staff plan page; questionnaire and progress pages add theirs)."""

from django.urls import path

from imsclinic.outcomes import views_plan

urlpatterns = [
    path(
        "staff/patients/<int:patient_id>/measures/plan/",
        views_plan.plan_page,
        name="measures_plan",
    ),
]

# Progress charts and the clinic outcomes report.
from imsclinic.outcomes import views_progress, views_report  # noqa: E402

urlpatterns += [
    path(
        "staff/patients/<int:patient_id>/progress/",
        views_progress.patient_progress,
        name="patient_progress",
    ),
    path(
        "staff/patients/<int:patient_id>/progress/results/<int:result_id>/strike-out/",
        views_progress.result_strike_out,
        name="outcome_result_strike_out",
    ),
    path("portal/progress/", views_progress.portal_progress, name="portal_progress"),
    path("staff/reports/outcomes/", views_report.outcomes_report, name="outcomes_report"),
]

# Questionnaires: the patient's in the portal, paper entry for staff.
from imsclinic.outcomes import views_forms  # noqa: E402

urlpatterns += [
    path("portal/measures/", views_forms.portal_measures, name="portal_measures"),
    path(
        "portal/measures/<int:appointment_id>/<str:code>/",
        views_forms.portal_measure_fill,
        name="portal_measure_fill",
    ),
    path(
        "staff/patients/<int:patient_id>/measures/enter/",
        views_forms.measures_enter,
        name="measures_enter",
    ),
]
