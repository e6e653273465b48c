"""Billing's staff pages (under /staff/billing/); url names start with "billing_"."""

from django.urls import URLPattern, path

from imsclinic.billing.views import account, checkout, invoices, payments

urlpatterns: list[URLPattern] = [
    path("invoices/", invoices.invoice_list, name="billing_invoices"),
    path("invoices/<int:invoice_id>/", invoices.invoice_detail, name="billing_invoice"),
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
