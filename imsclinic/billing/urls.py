"""Billing's staff pages (under /staff/billing/); url names start with "billing_"."""

from django.urls import URLPattern, path

from imsclinic.billing.views import fees

urlpatterns: list[URLPattern] = [
    path("fees/<int:invoice_id>/waive/", fees.fee_waive_page, name="billing_fee_waive"),
]
