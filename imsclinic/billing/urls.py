"""Billing's staff pages (under /staff/billing/); url names start with "billing_"."""

from django.urls import URLPattern, path

from imsclinic.billing.views import reports

urlpatterns: list[URLPattern] = [
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
