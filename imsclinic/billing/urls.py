"""Billing's staff pages (under /staff/billing/); url names start with "billing_"."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
