from django.urls import path

from imsclinic.portal import views, waitlist_views

urlpatterns = [path("", views.portal_home, name="portal_home")]

# Booking, moving and cancelling visits.
urlpatterns += [
    path("book/", views.portal_book, name="portal_book"),
    path("book/confirm/", views.portal_book_confirm, name="portal_book_confirm"),
    path("book/course/", views.portal_course_plan, name="portal_course_plan"),
    path("visits/<int:appointment_id>/booked/", views.portal_booked, name="portal_booked"),
    path("visits/<int:appointment_id>/cancel/", views.portal_cancel, name="portal_cancel"),
    path(
        "visits/<int:appointment_id>/reschedule/",
        views.portal_reschedule,
        name="portal_reschedule",
    ),
    path(
        "visits/<int:appointment_id>/reschedule/confirm/",
        views.portal_reschedule_confirm,
        name="portal_reschedule_confirm",
    ),
]

# The waitlist.
urlpatterns += [
    path("waitlist/", waitlist_views.waitlist_list, name="waitlist_list"),
    path("waitlist/join/", waitlist_views.waitlist_join_page, name="waitlist_join"),
    path(
        "waitlist/<int:entry_id>/withdraw/",
        waitlist_views.waitlist_withdraw_page,
        name="waitlist_withdraw",
    ),
    path("waitlist/claim/<str:token>/", waitlist_views.waitlist_claim_page, name="waitlist_claim"),
]
