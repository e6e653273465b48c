"""Consent pages: signing under portal/ (and on a clinic tablet), authoring under staff/."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
