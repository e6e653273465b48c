"""Account emails (sign-up, password reset and the rest) speak for the clinic, at SITE_URL."""

from __future__ import annotations

import re
from pathlib import Path

import allauth
import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from imsclinic.accounts.adapter import AccountAdapter, email_context
from tests.factories.people import PASSWORD

pytestmark = pytest.mark.django_db

SITE = "https://clinic.example"
CLINIC = "Cedar IMS Physiotherapy"
ALLAUTH_TEMPLATES = Path(allauth.__file__).parent / "templates"
# Every email the allauth apps we install (account, mfa) can send, as the prefix of its
# _subject.txt and _message.txt.
ALLAUTH_EMAILS = sorted(
    str(path.relative_to(ALLAUTH_TEMPLATES)).removesuffix("_subject.txt")
    for app in ("account", "mfa")
    for path in ALLAUTH_TEMPLATES.glob(f"{app}/email/*_subject.txt")
)


@pytest.fixture(autouse=True)
def _served_elsewhere(settings, clinic):
    # The request comes to the test server's host; the site is served at SITE.
    settings.SITE_URL = SITE


def only_email() -> mail.EmailMessage:
    assert len(mail.outbox) == 1, [m.subject for m in mail.outbox]
    return mail.outbox[0]


def links(message: mail.EmailMessage) -> list[str]:
    """Return the links in the body, all but the site's address under the signature."""
    found = re.findall(r"https?://\S+", str(message.body))
    assert found[-1] == SITE + "/"
    return found[:-1]


def assert_in_the_clinics_name(message: mail.EmailMessage) -> None:
    body = str(message.body)
    assert message.subject.endswith(f" - {CLINIC}")
    assert CLINIC in body
    assert "testserver" not in body + message.subject
    assert "Hello from" not in body
    assert "604-555-0100" in body
    assert all(link.startswith(SITE + "/") for link in links(message)), links(message)


def test_the_sign_up_email_comes_from_the_clinic_with_a_link_on_the_site(client):
    client.post(
        reverse("account_signup"),
        {
            "first_name": "Nora",
            "last_name": "Newcomb",
            "email": "nora@patients.example",
            "date_of_birth": "1988-07-14",
            "password1": "a-long-walk-by-the-inlet",
            "password2": "a-long-walk-by-the-inlet",
        },
    )

    message = only_email()
    assert message.subject == f"Please confirm your email address - {CLINIC}"
    assert_in_the_clinics_name(message)
    (link,) = links(message)
    assert "/accounts/confirm-email/" in link
    confirmed = client.post(link.removeprefix(SITE), follow=True)
    assert confirmed.redirect_chain[-1][0] == reverse("portal_home")


def test_the_password_reset_email_comes_from_the_clinic_with_a_working_link(patient_user):
    client = Client()
    client.post(reverse("account_reset_password"), {"email": patient_user.email})

    message = only_email()
    assert message.subject == f"Reset your password - {CLINIC}"
    assert_in_the_clinics_name(message)
    (link,) = links(message)
    page = client.get(link.removeprefix(SITE), follow=True)
    new = "another-long-walk-by-the-inlet"
    changed = client.post(page.redirect_chain[-1][0], {"password1": new, "password2": new})
    assert changed.status_code == 302
    patient_user.refresh_from_db()
    assert patient_user.check_password(new)


def test_a_reset_for_an_unknown_address_says_so_in_the_clinics_name(db):
    Client().post(reverse("account_reset_password"), {"email": "nobody@patients.example"})

    message = only_email()
    assert message.subject == f"No account with this email address - {CLINIC}"
    assert_in_the_clinics_name(message)
    assert links(message) == [SITE + reverse("account_signup")]


def test_signing_up_again_with_a_known_address_says_so_in_the_clinics_name(patient_user):
    Client().post(
        reverse("account_signup"),
        {
            "first_name": "Pat",
            "last_name": "Again",
            "email": patient_user.email,
            "date_of_birth": "1988-07-14",
            "password1": "a-long-walk-by-the-inlet",
            "password2": "a-long-walk-by-the-inlet",
        },
    )

    message = only_email()
    assert message.subject == f"You already have an account - {CLINIC}"
    assert_in_the_clinics_name(message)
    assert links(message) == [SITE + reverse("account_reset_password")]


def test_a_change_notice_comes_from_the_clinic(settings, patient_user):
    settings.ACCOUNT_EMAIL_NOTIFICATIONS = True
    client = Client()
    client.force_login(patient_user)
    new = "another-long-walk-by-the-inlet"
    client.post(
        reverse("account_change_password"),
        {"oldpassword": PASSWORD, "password1": new, "password2": new},
    )

    message = only_email()
    assert message.subject == f"Your password was changed - {CLINIC}"
    assert_in_the_clinics_name(message)
    assert "Your password has been changed." in str(message.body)


@pytest.mark.parametrize("prefix", ALLAUTH_EMAILS)
def test_every_account_email_carries_the_clinics_name(prefix, rf):
    request = rf.get("/")
    context = {
        **email_context(),
        "email": "pat@patients.example",
        "code": "ABC123",
        "activate_url": SITE + "/accounts/confirm-email/key/",
        "password_reset_url": SITE + "/accounts/password/reset/key/1-key/",
        "signup_url": SITE + "/accounts/signup/",
        "ip": "127.0.0.1",
        "user_agent": "a browser",
        "timestamp": "now",
        "from_email": "old@patients.example",
        "to_email": "new@patients.example",
        "deleted_email": "old@patients.example",
    }

    message = AccountAdapter(request).render_mail(prefix, "pat@patients.example", context)

    assert_in_the_clinics_name(message)


def test_the_list_of_account_emails_is_not_empty():
    assert "account/email/email_confirmation" in ALLAUTH_EMAILS
    assert "account/email/password_reset_key" in ALLAUTH_EMAILS
    assert "mfa/email/totp_activated" in ALLAUTH_EMAILS
