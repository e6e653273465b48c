"""In Chromium: the public pages load cleanly, and each role signs in through the real forms."""

from __future__ import annotations

import time

import pytest
from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

from imsclinic.accounts.models import User
from imsclinic.core.roles import Role
from imsclinic.demo.logins import current_code
from tests.factories.people import PASSWORD, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PUBLIC_PATHS = ["/", "/what-is-ims/", "/safety/", "/faq/", "/practitioners/", "/locations/"]


def staff_with_authenticator(email: str, role: Role) -> tuple[User, str]:
    """Create a staff member with a real TOTP authenticator, as enrolment would."""
    user = make_user(email, role, mfa=False, first="Test", last=str(role.label))
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    return user, secret


def fresh_code(secret: str) -> str:
    """Return the current code, waiting out the last seconds of a period so it stays valid."""
    left = mfa_settings.TOTP_PERIOD - time.time() % mfa_settings.TOTP_PERIOD
    if left < 4:
        time.sleep(left + 0.2)
    return current_code(secret)


def sign_in(page, email: str) -> None:
    page.goto("/accounts/login/")
    page.locator("input[name='login']").fill(email)
    page.locator("input[name='password']").fill(PASSWORD)
    page.locator("input[name='password']").press("Enter")
    page.wait_for_load_state()


def pass_two_factor(page, secret: str) -> None:
    code = page.locator("input[name='code']")
    code.wait_for()
    code.fill(fresh_code(secret))
    code.press("Enter")
    page.wait_for_load_state()


@pytest.mark.parametrize("path", PUBLIC_PATHS)
def test_a_visitor_opens_each_public_page_without_errors_or_policy_violations(
    page, clinic, location, path: str
) -> None:
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    response = page.goto(path)
    assert response is not None and response.status == 200
    page.wait_for_load_state("networkidle")
    assert clinic.name in page.content()
    assert problems == [], f"{path}: {problems}"


def test_a_patient_signs_in_and_lands_on_their_portal(page, clinic, patient) -> None:
    sign_in(page, patient.user.email)
    page.wait_for_url("**/portal/")
    assert page.locator("input[name='code']").count() == 0, "patients are not asked for a code"
    assert page.get_by_role("button", name="Sign out").is_visible()


@pytest.mark.parametrize(
    "email,role",
    [
        ("desk@cedar.example", Role.FRONT_DESK),
        ("physio@cedar.example", Role.PRACTITIONER),
        ("owner@cedar.example", Role.OWNER),
    ],
)
def test_staff_sign_in_with_password_then_a_code_and_land_on_the_patient_list(
    page, clinic, email: str, role: Role
) -> None:
    _, secret = staff_with_authenticator(email, role)
    sign_in(page, email)
    assert "/staff/patients/" not in page.url, "the password alone is not enough for staff"
    pass_two_factor(page, secret)
    page.wait_for_url("**/staff/patients/")
    assert page.get_by_role("link", name="Patients").first.is_visible()


def test_a_wrong_code_keeps_staff_out(page, clinic) -> None:
    _, secret = staff_with_authenticator("desk@cedar.example", Role.FRONT_DESK)
    sign_in(page, "desk@cedar.example")
    right = fresh_code(secret)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    page.locator("input[name='code']").fill(wrong)
    page.locator("input[name='code']").press("Enter")
    page.wait_for_load_state()
    page.goto("/staff/patients/")
    assert "/staff/patients/" not in page.url


def test_the_owner_opens_the_audit_log_and_the_clinic_settings(page, clinic) -> None:
    _, secret = staff_with_authenticator("owner@cedar.example", Role.OWNER)
    sign_in(page, "owner@cedar.example")
    pass_two_factor(page, secret)
    page.wait_for_url("**/staff/patients/")

    page.get_by_role("link", name="Audit log").first.click()
    page.wait_for_url("**/staff/audit/**")
    assert page.get_by_role("heading", level=1).first.is_visible()

    response = page.goto("/manage/")
    assert response is not None and response.status == 200
    assert page.get_by_role("link", name="Locations").first.is_visible()
    assert page.get_by_role("link", name="Practitioners").first.is_visible()


def test_a_front_desk_member_is_kept_out_of_the_audit_log_and_clinic_settings(page, clinic) -> None:
    _, secret = staff_with_authenticator("desk@cedar.example", Role.FRONT_DESK)
    sign_in(page, "desk@cedar.example")
    pass_two_factor(page, secret)
    page.wait_for_url("**/staff/patients/")
    audit = page.goto("/staff/audit/")
    assert audit is not None and audit.status == 403
    page.goto("/manage/")
    assert page.get_by_role("link", name="Practitioners").count() == 0
