"""For browser tests: a tab signed in as someone without going through the sign-in pages."""

from __future__ import annotations

from django.conf import settings
from django.test import Client


def sign_in_as(page, live_server, user) -> None:
    """Give the browser tab a signed-in session for this user (the sign-in pages are tested
    on their own)."""
    client = Client()
    client.force_login(user)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}]
    )
