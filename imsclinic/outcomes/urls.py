"""Outcome measure pages: the course's plan, questionnaires, progress and the clinic report."""

from django.urls import path

from imsclinic.outcomes.views import measures, plan, progress, report

urlpatterns = [
    path(
        "staff/patients/<int:patient_id>/measures/plan/",
        plan.plan_page,
        name="measures_plan",
    ),
    # Progress charts and the clinic outcomes report.
    path(
        "staff/patients/<int:patient_id>/progress/",
        progress.patient_progress,
        name="patient_progress",
    ),
    path(
        "staff/patients/<int:patient_id>/progress/results/<int:result_id>/strike-out/",
        progress.result_strike_out,
        name="outcome_result_strike_out",
    ),
    path("portal/progress/", progress.portal_progress, name="portal_progress"),
    path("staff/reports/outcomes/", report.outcomes_report, name="outcomes_report"),
    # Questionnaires: the patient's in the portal, paper entry for staff.
    path("portal/measures/", measures.portal_measures, name="portal_measures"),
    path(
        "portal/measures/<int:appointment_id>/<str:code>/",
        measures.portal_measure_fill,
        name="portal_measure_fill",
    ),
    path(
        "staff/patients/<int:patient_id>/measures/enter/",
        measures.measures_enter,
        name="measures_enter",
    ),
]
