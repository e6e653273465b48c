"""Intake, screening and clearance pages: the patient's under portal/, the staff's under staff/."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
