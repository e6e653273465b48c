"""The account settings page, where sign-in leads, and allauth's pages in the site's dress."""

from __future__ import annotations

import re

import pytest
from allauth.account.models import EmailAddress, EmailConfirmationHMAC
from django.test import Client
from django.urls import reverse

from imsclinic.core.roles import Role
from tests.factories.accounts import sign_in
from tests.factories.people import PASSWORD, STAND_IN_SECRET, make_user

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.mark.parametrize(
    ("who", "destination"),
    [("patient", "portal_home"), ("front_desk", "patient_list"), ("owner", "patient_list")],
)
def test_after_signing_in_staff_go_to_patients_and_patients_to_their_portal(cast, who, destination):
    response = client_for(cast[who]).get(reverse("after_login"))

    assert response["Location"] == reverse(destination)


def test_the_sign_in_form_leads_a_practitioner_to_the_patient_list(physio):
    client = Client()

    response = sign_in(client, physio.email, secret=STAND_IN_SECRET)

    assert client.get(response["Location"])["Location"] == reverse("patient_list")


def test_account_settings_show_who_you_are_and_where_to_change_things(cast):
    page = client_for(cast["front_desk"]).get(reverse("account_settings")).content.decode()

    assert "desk@cedar.example" in page
    assert "Front desk" in page
    for name in (
        "account_change_password",
        "account_email",
        "mfa_index",
        "mfa_view_recovery_codes",
    ):
        assert f'href="{reverse(name)}"' in page, name
    assert f'href="{reverse("api_tokens")}"' in page


def test_a_patient_sees_no_api_tokens_link(cast):
    page = client_for(cast["patient"]).get(reverse("account_settings")).content.decode()

    assert "Patient" in page
    assert f'href="{reverse("account_change_password")}"' in page
    assert f'href="{reverse("api_tokens")}"' not in page


def test_account_settings_need_a_signed_in_user(db):
    response = Client().get(reverse("account_settings"))

    assert response["Location"].startswith(reverse("account_login"))


# allauth's pages, drawn with the site's layout under its strict content security policy.

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", re.I)


def assert_dressed_like_the_site(response) -> str:
    assert response.status_code == 200
    page = response.content.decode()
    assert 'class="skip-link"' in page  # our base.html, not allauth's bare layout
    assert "pico" in page
    assert "style=" not in page
    assert not INLINE_SCRIPT.search(page), INLINE_SCRIPT.search(page)
    for field_id in re.findall(r'<(?:input|textarea|select)[^>]*\bid="([^"]+)"', page):
        if 'type="hidden"' in page.split(f'id="{field_id}"')[0].rsplit("<", 1)[-1]:
            continue
        assert f'for="{field_id}"' in page, f"no label for #{field_id}"
    return page


@pytest.mark.parametrize(
    "name",
    [
        "account_login",
        "account_signup",
        "account_reset_password",
        "account_reset_password_done",
        "account_email_verification_sent",
    ],
)
def test_public_account_pages_use_the_site_layout(db, name):
    assert_dressed_like_the_site(Client().get(reverse(name)))


def test_the_signup_page_asks_for_name_birth_date_and_phone_with_labels(db):
    page = assert_dressed_like_the_site(Client().get(reverse("account_signup")))

    for label in ("First name", "Last name", "Date of birth", "Phone (optional)", "Email"):
        assert label in page
    assert 'type="date"' in page
    assert 'name="role"' not in page


def test_a_failed_sign_in_says_what_went_wrong_on_the_form(patient_user):
    response = Client().post(
        reverse("account_login"), {"login": patient_user.email, "password": "wrong-password"}
    )

    page = assert_dressed_like_the_site(response)
    assert 'role="alert"' in page
    assert "not correct" in page


def test_a_signup_error_appears_next_to_its_field(db):
    response = Client().post(reverse("account_signup"), {"email": "not-an-email"})

    page = assert_dressed_like_the_site(response)
    date_field = page.split('for="id_date_of_birth"')[1].split("</div>")[0]
    assert "This field is required." in date_field


def test_the_email_confirmation_page_uses_the_site_layout(patient_user):
    address = EmailAddress.objects.get(user=patient_user)
    address.verified = False
    address.save()
    key = EmailConfirmationHMAC(address).key

    page = assert_dressed_like_the_site(Client().get(reverse("account_confirm_email", args=[key])))

    assert "pat@patients.example" in page


@pytest.mark.parametrize(
    "name",
    [
        "account_change_password",
        "account_email",
        "account_logout",
        "mfa_index",
        "mfa_view_recovery_codes",
        "mfa_generate_recovery_codes",
    ],
)
def test_signed_in_account_pages_use_the_site_layout(front_desk, name):
    client = Client()
    sign_in(client, front_desk.email, secret=STAND_IN_SECRET)
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    client.post(reverse("mfa_generate_recovery_codes"))

    assert_dressed_like_the_site(client.get(reverse(name)))


def test_the_two_factor_step_and_totp_setup_use_the_site_layout(front_desk):
    client = Client()
    client.post(reverse("account_login"), {"login": front_desk.email, "password": PASSWORD})
    assert_dressed_like_the_site(client.get(reverse("mfa_authenticate")))

    newcomer = make_user("new.desk@cedar.example", Role.FRONT_DESK, mfa=False)
    setup_client = Client()
    sign_in(setup_client, newcomer.email)
    setup_client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    page = assert_dressed_like_the_site(setup_client.get(reverse("mfa_activate_totp")))
    assert 'alt="QR code' in page
    assert "Staff accounts open patient records" in page
