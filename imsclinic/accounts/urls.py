from django.urls import path

from imsclinic.accounts import views

urlpatterns = [
    path("after-login/", views.after_login, name="after_login"),
    path("settings/", views.account_settings, name="account_settings"),
    path("staff/invite/", views.invite_staff, name="invite_staff"),
]
