"""Account pages: where to go after sign-in, account settings, staff invitations."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render


@login_required
def after_login(request: HttpRequest) -> HttpResponse:
    """Send staff to the patient list and patients to their portal."""
    if request.user.is_clinic_staff:  # type: ignore[union-attr]
        return redirect("patient_list")
    return redirect("portal_home")


@login_required
def account_settings(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/settings.html")


@login_required
def invite_staff(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/settings.html")


def accept_invitation(request: HttpRequest, token: str) -> HttpResponse:
    return render(request, "accounts/settings.html")
