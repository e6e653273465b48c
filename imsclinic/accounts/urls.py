from django.urls import path

from imsclinic.accounts import views

urlpatterns = [
    path("after-login/", views.after_login, name="after_login"),
    path("settings/", views.account_settings, name="account_settings"),
    path("staff/invite/", views.invite_staff, name="invite_staff"),
    path(
        "staff/invite/<int:invitation_id>/revoke/",
        views.revoke_invitation,
        name="revoke_invitation",
    ),
    path("invitation/<str:token>/", views.accept_invitation, name="accept_invitation"),
    path("tokens/", views.api_tokens, name="api_tokens"),
    path("tokens/<int:token_id>/revoke/", views.api_token_revoke, name="api_token_revoke"),
]
