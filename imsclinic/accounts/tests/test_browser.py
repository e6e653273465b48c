"""In a phone-sized Chromium: sign-in pages pass axe, and a new staff member sets up TOTP."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe

from imsclinic.core.roles import Role
from tests.factories.accounts import totp_code
from tests.factories.people import PASSWORD, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def watch_console(page) -> list[str]:
    errors: list[str] = []
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def serious_axe_problems(page) -> list[tuple[str, str, list]]:
    results = Axe().run(page)
    return [
        (violation["id"], violation["impact"], [node["target"] for node in violation["nodes"]])
        for violation in results.response["violations"]
        if violation["impact"] in {"serious", "critical"}
    ]


@pytest.mark.parametrize(
    "path", ["/accounts/login/", "/accounts/signup/", "/accounts/password/reset/"]
)
def test_each_account_page_passes_axe_on_a_phone_without_console_errors(page, clinic, path):
    errors = watch_console(page)

    page.goto(path)
    page.wait_for_load_state("load")

    assert not serious_axe_problems(page), path
    assert not errors, errors
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0


def test_a_new_staff_member_scans_the_qr_code_and_reaches_the_patient_list(page, clinic):
    make_user("fresh.desk@cedar.example", Role.FRONT_DESK, mfa=False)
    errors = watch_console(page)

    page.goto("/accounts/login/")
    page.get_by_label("Email").fill("fresh.desk@cedar.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    # Reaching the patient list is not allowed yet: allauth first asks for the password
    # again, then shows the authenticator set-up.
    page.wait_for_url("**/accounts/reauthenticate/**")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_url("**/accounts/2fa/totp/activate/")

    qr = page.get_by_role("img", name="QR code to add this account to your authenticator app")
    assert qr.is_visible()
    assert qr.evaluate("img => img.complete && img.naturalWidth > 0")
    assert not serious_axe_problems(page)
    secret = page.locator("#totp-secret").inner_text().strip()
    page.get_by_label("Authenticator code").fill(totp_code(secret))
    page.get_by_role("button", name="Turn on two-factor authentication").click()

    page.wait_for_url("**/accounts/2fa/recovery-codes/")
    assert page.get_by_label("Unused codes").input_value().count("\n") == 9
    page.get_by_role("button", name="I have saved my codes").click()
    page.wait_for_url("**/staff/patients/")
    csp = [text for text in errors if "Content Security Policy" in text]
    assert not csp, csp
