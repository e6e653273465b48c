"""Session rules for staff: MFA before anything else, idle and absolute time-outs."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

SESSION_STARTED = "imsclinic_session_started"
SESSION_LAST_SEEN = "imsclinic_last_seen"

# Paths a staff member without MFA may still reach: setting MFA up, signing out, static files.
MFA_SETUP_PATHS = ("/accounts/2fa/", "/accounts/logout/", "/static/", "/accounts/email/")


def user_has_mfa(user: object) -> bool:
    """Say whether the user has an active TOTP authenticator."""
    from allauth.mfa.models import Authenticator

    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


class StaffSessionTimeoutMiddleware:
    """End a staff session after idle minutes or once its absolute lifetime is spent."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if user.is_authenticated and user.is_clinic_staff:  # type: ignore[union-attr]
            now = time.time()
            started = request.session.setdefault(SESSION_STARTED, now)
            last_seen = request.session.get(SESSION_LAST_SEEN, now)
            idle_limit = settings.STAFF_IDLE_TIMEOUT_MINUTES * 60
            absolute_limit = settings.STAFF_SESSION_MAX_HOURS * 3600
            if now - last_seen > idle_limit or now - started > absolute_limit:
                logout(request)
                messages.info(request, _("For privacy you were signed out. Please sign in again."))
                return redirect(f"{reverse('account_login')}?next={request.path}")
            request.session[SESSION_LAST_SEEN] = now
        return self.get_response(request)


class StaffMFARequiredMiddleware:
    """Send staff without two-factor authentication to set it up before anything else."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            user.is_authenticated
            and user.is_clinic_staff  # type: ignore[union-attr]
            and not request.path.startswith(MFA_SETUP_PATHS)
            and not user_has_mfa(user)
        ):
            if request.path.startswith("/api/"):
                return HttpResponse(status=403)
            return redirect("mfa_activate_totp")
        return self.get_response(request)
