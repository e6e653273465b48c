"""Signing in through the real allauth forms, TOTP codes, and a visitor's stored session."""

from __future__ import annotations

import time

from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.conf import settings
from django.test import Client
from django.urls import reverse

from tests.factories.people import PASSWORD


def totp_code(secret: str, *, periods_ago: int = 0) -> str:
    """Return the code an authenticator app would show now for this secret."""
    # A code read in the last moments of its period may be checked in the next one (as on a
    # real phone); wait for a fresh period, so a slow test never races the clock.
    left = mfa_settings.TOTP_PERIOD - time.time() % mfa_settings.TOTP_PERIOD
    if left < 3:
        time.sleep(left + 0.05)
    counter = int(time.time()) // mfa_settings.TOTP_PERIOD - periods_ago
    return format_hotp_value(hotp_value(secret, counter))


def sign_in(client: Client, email: str, password: str = PASSWORD, *, secret: str | None = None):
    """Sign in through the login form, then the two-factor step when a secret is given."""
    response = client.post(reverse("account_login"), {"login": email, "password": password})
    if secret is not None:
        assert response.headers.get("Location") == reverse("mfa_authenticate")
        response = client.post(reverse("mfa_authenticate"), {"code": totp_code(secret)})
    return response


def start_anonymous_session(client: Client) -> str:
    """Give a visitor who has not signed in a stored session; return its key."""
    session = client.session
    session["visited"] = True
    session.save()
    key = str(session.session_key)
    client.cookies[settings.SESSION_COOKIE_NAME] = key
    return key
