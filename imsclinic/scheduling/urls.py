"""Staff scheduling pages under /staff/ and the practitioner feed under /calendar/."""

from django.urls import URLPattern, URLResolver, path

from imsclinic.scheduling import booking_views, views

urlpatterns: list[URLPattern | URLResolver] = [
    # Staff calendar.
    path("calendar/", views.calendar_day, name="calendar_day"),
    path("calendar/week/", views.calendar_week, name="calendar_week"),
    path("calendar/mine/", views.calendar_mine, name="calendar_mine"),
    path("calendar/feed/", views.calendar_feed_settings, name="calendar_feed_settings"),
    path(
        "calendar/feed/revoke/",
        views.calendar_feed_revoke,
        name="calendar_feed_revoke",
    ),
    path(
        "appointments/<int:appointment_id>/status/",
        views.appointment_status,
        name="appointment_status",
    ),
    path(
        "appointments/<int:appointment_id>/cancel/",
        views.appointment_cancel_staff,
        name="appointment_cancel_staff",
    ),
]

# Front-desk booking for a patient, usually on the phone.
urlpatterns += [
    path("patients/<int:patient_id>/book/", booking_views.staff_book, name="staff_book"),
    path(
        "patients/<int:patient_id>/book/confirm/",
        booking_views.staff_book_confirm,
        name="staff_book_confirm",
    ),
    path(
        "patients/<int:patient_id>/book/course/",
        booking_views.staff_course_plan,
        name="staff_course_plan",
    ),
]

# The practitioner's private iCal feed: no sign-in, the signed token is the key.
feed_urlpatterns: list[URLPattern | URLResolver] = [
    path("feed/<str:token>.ics", views.calendar_feed, name="calendar_feed"),
]
