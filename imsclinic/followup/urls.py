"""Follow-up pages: the patient's check-in link and the staff list and alerts."""

from django.urls import path

from imsclinic.followup import views

urlpatterns = [
    path("check-in/<str:token>/", views.checkin_answer_view, name="checkin_answer"),
    path("staff/follow-up/", views.followup_list, name="followup_list"),
    path(
        "staff/follow-up/check-ins/<int:checkin_id>/phoned/",
        views.checkin_phoned_view,
        name="checkin_phoned",
    ),
    path("staff/follow-up/alerts/<int:alert_id>/", views.alert_detail, name="followup_alert"),
    path(
        "staff/follow-up/alerts/<int:alert_id>/acknowledge/",
        views.alert_acknowledge_view,
        name="followup_alert_acknowledge",
    ),
]
