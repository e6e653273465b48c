from django.urls import path

from imsclinic.portal.views import billing, booking, home, waitlist

urlpatterns = [path("", home.portal_home, name="portal_home")]

# Booking, moving and cancelling visits.
urlpatterns += [
    path("book/", booking.portal_book, name="portal_book"),
    path("book/confirm/", booking.portal_book_confirm, name="portal_book_confirm"),
    path("book/course/", booking.portal_course_plan, name="portal_course_plan"),
    path("visits/<int:appointment_id>/booked/", booking.portal_booked, name="portal_booked"),
    path("visits/<int:appointment_id>/cancel/", booking.portal_cancel, name="portal_cancel"),
    path(
        "visits/<int:appointment_id>/reschedule/",
        booking.portal_reschedule,
        name="portal_reschedule",
    ),
    path(
        "visits/<int:appointment_id>/reschedule/confirm/",
        booking.portal_reschedule_confirm,
        name="portal_reschedule_confirm",
    ),
]

# The waitlist.
urlpatterns += [
    path("waitlist/", waitlist.waitlist_list, name="waitlist_list"),
    path("waitlist/join/", waitlist.waitlist_join_page, name="waitlist_join"),
    path(
        "waitlist/<int:entry_id>/withdraw/",
        waitlist.waitlist_withdraw_page,
        name="waitlist_withdraw",
    ),
    path("waitlist/claim/<str:token>/", waitlist.waitlist_claim_page, name="waitlist_claim"),
]

# Bills, payments and receipts for insurers.
urlpatterns += [
    path("billing/", billing.portal_billing, name="portal_billing"),
    path(
        "billing/invoices/<int:invoice_id>/pdf/",
        billing.portal_invoice_pdf,
        name="portal_invoice_pdf",
    ),
    path("billing/receipts/year/", billing.portal_receipt_year, name="portal_receipt_year"),
    path(
        "billing/receipts/<int:receipt_id>/pdf/",
        billing.portal_receipt_pdf,
        name="portal_receipt_pdf",
    ),
    path(
        "billing/receipts/<int:receipt_id>/email/",
        billing.portal_receipt_email,
        name="portal_receipt_email",
    ),
    path("billing/pay/<int:invoice_id>/", billing.portal_card_pay, name="portal_card_pay"),
    path("billing/pay/return/", billing.portal_card_return, name="portal_card_return"),
]
