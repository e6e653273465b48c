"""Billing's staff pages (under /staff/billing/); url names start with "billing_"."""

from django.urls import URLPattern, path

from imsclinic.billing.views import (
    account,
    checkout,
    cover,
    fees,
    invoices,
    payers,
    payments,
    receipts,
    reports,
)

# The front desk: accounts, invoices, payments, check-out.
urlpatterns: list[URLPattern] = [
    path("invoices/", invoices.invoice_list, name="billing_invoices"),
    path("invoices/<int:invoice_id>/", invoices.invoice_detail, name="billing_invoice"),
    path("invoices/<int:invoice_id>/pdf/", invoices.invoice_document, name="billing_invoice_pdf"),
    path(
        "invoices/<int:invoice_id>/credit-note/",
        invoices.credit_note_new,
        name="billing_credit_note",
    ),
    path("invoices/<int:invoice_id>/use-credit/", payments.credit_use, name="billing_credit_apply"),
    path("patients/<int:patient_id>/", account.account, name="billing_account"),
    path(
        "patients/<int:patient_id>/invoices/new/", invoices.invoice_new, name="billing_invoice_new"
    ),
    path("patients/<int:patient_id>/pay/", payments.payment_new, name="billing_payment_new"),
    path("payments/<int:payment_id>/refund/", payments.refund_new, name="billing_refund"),
    path("visits/<int:appointment_id>/check-out/", checkout.checkout, name="billing_checkout"),
]

# Insurers, third parties, policies and claims.
urlpatterns += [
    path(
        "patients/<int:patient_id>/cover/",
        cover.billing_patient_cover,
        name="billing_patient_cover",
    ),
    path("payers/", payers.billing_payers, name="billing_payers"),
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

# The owner's reports, and a practitioner's own sales.
urlpatterns += [
    path("reports/", reports.billing_reports, name="billing_reports"),
    path("reports/day-sheet/", reports.billing_report_day_sheet, name="billing_report_day_sheet"),
    path("reports/sales/", reports.billing_report_sales, name="billing_report_sales"),
    path(
        "reports/receivables/",
        reports.billing_report_receivables,
        name="billing_report_receivables",
    ),
    path(
        "reports/utilisation/",
        reports.billing_report_utilisation,
        name="billing_report_utilisation",
    ),
    path("reports/no-shows/", reports.billing_report_attendance, name="billing_report_attendance"),
    path(
        "reports/compensation/",
        reports.billing_report_compensation,
        name="billing_report_compensation",
    ),
    path("my-sales/", reports.billing_my_sales, name="billing_my_sales"),
]
