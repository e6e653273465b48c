"""Charting pages for staff: assessments and the to-do list of unsigned notes."""

from django.urls import path

from imsclinic.charting import views
from imsclinic.charting.urls_pages import urlpatterns as _pages

urlpatterns = [
    path(
        "staff/patients/<int:patient_id>/assessments/new/",
        views.assessment_new,
        name="assessment_new",
    ),
    path("staff/assessments/<int:assessment_id>/", views.assessment_page, name="assessment_detail"),
    path(
        "staff/assessments/<int:assessment_id>/sign/",
        views.assessment_sign_page,
        name="assessment_sign",
    ),
    path(
        "staff/assessments/<int:assessment_id>/addenda/",
        views.assessment_addendum_page,
        name="assessment_addendum",
    ),
    path("staff/charting/todo/", views.todo_page, name="charting_todo"),
]
urlpatterns += _pages
