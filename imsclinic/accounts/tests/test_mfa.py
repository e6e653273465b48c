"""Staff need an authenticator app (TOTP) before any page with patient data."""

from __future__ import annotations

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import SECRET_SESSION_KEY
from django.test import Client
from django.urls import reverse

from imsclinic.core.roles import Role
from tests.factories.accounts import sign_in, totp_code
from tests.factories.people import STAND_IN_SECRET, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk_without_mfa(db):
    return make_user("fresh.desk@cedar.example", Role.FRONT_DESK, mfa=False)


def test_staff_without_an_authenticator_are_sent_to_set_one_up(desk_without_mfa, patient):
    client = Client()
    sign_in(client, desk_without_mfa.email)

    for page in (reverse("patient_list"), reverse("patient_detail", args=[patient.pk]), "/"):
        response = client.get(page)
        assert response.status_code == 302, page
        assert response["Location"] == reverse("mfa_activate_totp"), page


def test_an_authenticator_set_up_elsewhere_does_not_vouch_for_this_session(desk_without_mfa):
    client = Client()
    sign_in(client, desk_without_mfa.email)
    Authenticator.objects.create(
        user=desk_without_mfa, type=Authenticator.Type.TOTP, data={"secret": STAND_IN_SECRET}
    )

    response = client.get(reverse("patient_list"))

    assert response["Location"] == reverse("account_login")
    assert "_auth_user_id" not in client.session


def test_an_htmx_request_is_sent_to_mfa_setup_as_a_whole_page(desk_without_mfa):
    client = Client()
    sign_in(client, desk_without_mfa.email)

    response = client.get(reverse("patient_list"), headers={"HX-Request": "true"})

    assert response["HX-Redirect"] == reverse("mfa_activate_totp")


def test_patients_are_not_asked_for_an_authenticator(patient_user, patient):
    client = Client()
    sign_in(client, patient_user.email)

    assert client.get(reverse("portal_home")).status_code == 200


def test_staff_can_still_sign_out_and_confirm_their_password_during_setup(desk_without_mfa):
    client = Client()
    client.force_login(desk_without_mfa)  # no password step recorded in this session

    setup = client.get(reverse("mfa_activate_totp"))
    assert setup["Location"].startswith(reverse("account_reauthenticate"))
    assert client.get(setup["Location"]).status_code == 200
    confirmed = client.post(
        setup["Location"], {"password": "correct-horse-battery-staple"}, follow=True
    )
    assert confirmed.redirect_chain[-1][0] == reverse("mfa_activate_totp")
    assert confirmed.status_code == 200

    signed_out = client.post(reverse("account_logout"))
    assert signed_out.status_code == 302
    assert "_auth_user_id" not in client.session


def test_setting_up_totp_shows_the_qr_code_and_the_key_then_recovery_codes(desk_without_mfa):
    client = Client()
    sign_in(client, desk_without_mfa.email)
    # allauth asks for the password again before adding an authenticator.
    client.post(reverse("account_reauthenticate"), {"password": "correct-horse-battery-staple"})

    page = client.get(reverse("mfa_activate_totp"))
    secret = client.session[SECRET_SESSION_KEY]
    html = page.content.decode()
    assert page.status_code == 200
    assert 'src="data:image/svg+xml;base64,' in html
    assert secret in html
    assert "data:" in page["Content-Security-Policy"].split("img-src", 1)[1].split(";", 1)[0]

    wrong = client.post(reverse("mfa_activate_totp"), {"code": "000000"})
    assert wrong.status_code == 200
    assert "Incorrect code." in wrong.content.decode()
    assert not Authenticator.objects.filter(user=desk_without_mfa).exists()

    done = client.post(reverse("mfa_activate_totp"), {"code": totp_code(secret)})
    assert done["Location"] == reverse("mfa_view_recovery_codes")
    codes_page = client.get(reverse("mfa_view_recovery_codes"))
    codes = RecoveryCodes(
        Authenticator.objects.get(user=desk_without_mfa, type=Authenticator.Type.RECOVERY_CODES)
    ).get_unused_codes()
    assert len(codes) == 10
    assert all(code in codes_page.content.decode() for code in codes)
    assert client.get(reverse("mfa_download_recovery_codes")).status_code == 200
    assert client.get(reverse("patient_list")).status_code == 200


def test_staff_with_an_authenticator_must_give_a_code_at_sign_in(front_desk):
    client = Client()

    first_step = client.post(
        reverse("account_login"),
        {"login": front_desk.email, "password": "correct-horse-battery-staple"},
    )

    assert first_step["Location"] == reverse("mfa_authenticate")
    # The password alone does not sign in.
    assert client.get(reverse("patient_list"))["Location"].startswith(reverse("account_login"))
    wrong = client.post(reverse("mfa_authenticate"), {"code": "123456"})
    assert wrong.status_code == 200
    assert "Incorrect code." in wrong.content.decode()
    assert client.get(reverse("patient_list")).status_code == 302

    right = client.post(reverse("mfa_authenticate"), {"code": totp_code(STAND_IN_SECRET)})
    assert right["Location"] == reverse("after_login")
    assert client.get(reverse("patient_list")).status_code == 200


def test_a_recovery_code_stands_in_for_the_app_once(front_desk):
    codes = RecoveryCodes.activate(front_desk).generate_codes()

    def sign_in_with(code: str):
        client = Client()
        client.post(
            reverse("account_login"),
            {"login": front_desk.email, "password": "correct-horse-battery-staple"},
        )
        client.post(reverse("mfa_authenticate"), {"code": code})
        return client.get(reverse("patient_list")).status_code

    assert sign_in_with(codes[0]) == 200
    assert sign_in_with(codes[0]) == 302


def test_staff_cannot_switch_off_their_authenticator(front_desk):
    client = Client()
    sign_in(client, front_desk.email, secret=STAND_IN_SECRET)
    client.post(reverse("account_reauthenticate"), {"password": "correct-horse-battery-staple"})

    page = client.get(reverse("mfa_deactivate_totp"))
    posted = client.post(reverse("mfa_deactivate_totp"))

    assert "stays on" in page.content.decode()
    assert posted.status_code == 200
    assert Authenticator.objects.filter(user=front_desk, type=Authenticator.Type.TOTP).exists()
    assert "Turn off" not in client.get(reverse("mfa_index")).content.decode()


def test_a_patient_may_switch_off_the_authenticator_they_chose_to_add(patient_user):
    Authenticator.objects.create(
        user=patient_user, type=Authenticator.Type.TOTP, data={"secret": STAND_IN_SECRET}
    )
    client = Client()
    sign_in(client, patient_user.email, secret=STAND_IN_SECRET)
    client.post(reverse("account_reauthenticate"), {"password": "correct-horse-battery-staple"})

    assert "Turn off" in client.get(reverse("mfa_index")).content.decode()
    response = client.post(reverse("mfa_deactivate_totp"))

    assert response["Location"] == reverse("mfa_index")
    assert not Authenticator.objects.filter(
        user=patient_user, type=Authenticator.Type.TOTP
    ).exists()


def test_the_api_answers_403_to_staff_without_an_authenticator(desk_without_mfa):
    client = Client()
    sign_in(client, desk_without_mfa.email)

    assert client.get("/api/v1/openapi.json").status_code == 403


def test_a_staff_session_that_skipped_the_second_factor_is_signed_out(front_desk):
    """However a password-only session came about, it never reaches patient data."""
    client = Client()
    client.force_login(front_desk)
    session = client.session
    session.pop("imsclinic_mfa_proven")
    session.save()

    response = client.get(reverse("patient_list"))

    assert response.status_code == 302
    assert response["Location"] == reverse("account_login")
    assert "_auth_user_id" not in client.session


def test_the_owner_admin_has_no_sign_in_of_its_own(owner):
    """/manage/ sends people to the one sign-in that asks for the second factor."""
    client = Client()
    response = client.post(
        "/manage/login/?next=/manage/",
        {"username": owner.email, "password": "correct-horse-battery-staple"},
    )
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    assert "_auth_user_id" not in client.session
    assert client.get("/staff/patients/").status_code == 302


def test_signed_in_staff_who_are_not_the_owner_are_refused_clinic_settings(front_desk):
    client = Client()
    client.force_login(front_desk)
    response = client.get("/manage/", follow=True)
    assert response.status_code == 403
