"""For browser tests: a staff member signed in through the pages, or a tab given a session."""

from __future__ import annotations

from django.conf import settings
from django.test import Client

from tests.factories.accounts import totp_code
from tests.factories.people import PASSWORD, STAND_IN_SECRET


def sign_in_as(page, live_server, user) -> None:
    """Give the browser tab a signed-in session for this user, without the sign-in pages."""
    client = Client()
    client.force_login(user)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}]
    )


def staff_tab(chromium, live_server, email: str, *, viewport: dict[str, int] | None = None):
    """Open a browser of its own (its own cookies) and sign a staff member in with a code."""
    context = chromium.new_context(
        base_url=live_server.url, viewport=viewport or {"width": 1280, "height": 900}
    )
    tab = context.new_page()
    tab.goto("/accounts/login/")
    tab.locator("input[name='login']").fill(email)
    tab.locator("input[name='password']").fill(PASSWORD)
    tab.locator("input[name='password']").press("Enter")
    code = tab.locator("input[name='code']")
    code.wait_for()
    code.fill(totp_code(STAND_IN_SECRET))
    code.press("Enter")
    tab.wait_for_url("**/staff/patients/")
    return tab
