"""Staff scheduling pages under /staff/ and the practitioner feed under /calendar/."""

from django.urls import URLPattern, URLResolver, path

from imsclinic.scheduling.views import booking, calendar, feed

urlpatterns: list[URLPattern | URLResolver] = [
    # Staff calendar.
    path("calendar/", calendar.calendar_day, name="calendar_day"),
    path("calendar/week/", calendar.calendar_week, name="calendar_week"),
    path("calendar/mine/", calendar.calendar_mine, name="calendar_mine"),
    path("calendar/feed/", feed.calendar_feed_settings, name="calendar_feed_settings"),
    path(
        "calendar/feed/revoke/",
        feed.calendar_feed_revoke,
        name="calendar_feed_revoke",
    ),
    path(
        "appointments/<int:appointment_id>/status/",
        calendar.appointment_status,
        name="appointment_status",
    ),
    path(
        "appointments/<int:appointment_id>/cancel/",
        calendar.appointment_cancel_staff,
        name="appointment_cancel_staff",
    ),
]

# Front-desk booking for a patient, usually on the phone.
urlpatterns += [
    path("patients/<int:patient_id>/book/", booking.staff_book, name="staff_book"),
    path(
        "patients/<int:patient_id>/book/confirm/",
        booking.staff_book_confirm,
        name="staff_book_confirm",
    ),
    path(
        "patients/<int:patient_id>/book/course/",
        booking.staff_course_plan,
        name="staff_course_plan",
    ),
]

# The practitioner's private iCal feed: no sign-in, the signed token is the key.
feed_urlpatterns: list[URLPattern | URLResolver] = [
    path("feed/<str:token>.ics", feed.calendar_feed, name="calendar_feed"),
]
