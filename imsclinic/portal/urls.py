from django.urls import path

from imsclinic.portal.views import booking, home, waitlist

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
