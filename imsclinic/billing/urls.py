"""Billing's staff pages (under /staff/billing/); url names start with "billing_"."""

from django.urls import URLPattern, path

from imsclinic.billing.views import receipts

urlpatterns: list[URLPattern] = []

# Official receipts.
urlpatterns += [
    path(
        "patients/<int:patient_id>/receipts/",
        receipts.billing_patient_receipts,
        name="billing_patient_receipts",
    ),
    path(
        "patients/<int:patient_id>/receipts/payment/<int:payment_id>/",
        receipts.billing_receipt_issue,
        name="billing_receipt_issue",
    ),
    path(
        "patients/<int:patient_id>/receipts/period/",
        receipts.billing_receipt_period,
        name="billing_receipt_period",
    ),
    path(
        "patients/<int:patient_id>/receipts/<int:receipt_id>/pdf/",
        receipts.billing_receipt_pdf,
        name="billing_receipt_pdf",
    ),
    path(
        "patients/<int:patient_id>/receipts/<int:receipt_id>/email/",
        receipts.billing_receipt_email,
        name="billing_receipt_email",
    ),
]
