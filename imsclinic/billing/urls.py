"""Billing's staff pages (under /staff/billing/); url names start with "billing_"."""

from django.urls import URLPattern, path

from imsclinic.billing.views import cover, fees, payers, receipts

# Insurers, third parties, policies and claims.
urlpatterns: list[URLPattern] = [
    path(
        "patients/<int:patient_id>/cover/",
        cover.billing_patient_cover,
        name="billing_patient_cover",
    ),
    path(
        "payers/<int:payer_id>/statement/",
        payers.billing_payer_statement,
        name="billing_payer_statement",
    ),
    path(
        "payers/<int:payer_id>/payment/", payers.billing_payer_payment, name="billing_payer_payment"
    ),
]

# Late-cancellation and no-show fees.
urlpatterns += [
    path("fees/<int:invoice_id>/waive/", fees.fee_waive_page, name="billing_fee_waive"),
]

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
