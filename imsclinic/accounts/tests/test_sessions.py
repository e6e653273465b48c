"""Sessions: a new id at sign-in, gone at sign-out, idle and staff time-outs, login limits."""

from __future__ import annotations

import time

import pytest
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.test import Client
from django.urls import reverse
from django.utils.http import urlencode

from imsclinic.accounts.middleware import SESSION_LAST_SEEN, SESSION_STARTED
from tests.factories.accounts import sign_in, start_anonymous_session
from tests.factories.people import PASSWORD, STAND_IN_SECRET

pytestmark = pytest.mark.django_db

MINUTE = 60


def session_key(client: Client) -> str:
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def shift_clocks(client: Client, *, idle: float, age: float | None = None) -> None:
    """Pretend the session was last used `idle` seconds ago and began `age` seconds ago."""
    session = client.session
    now = time.time()
    session[SESSION_LAST_SEEN] = now - idle
    session[SESSION_STARTED] = now - (age if age is not None else idle)
    session.save()


@pytest.fixture
def desk_client(front_desk) -> Client:
    client = Client()
    sign_in(client, front_desk.email, secret=STAND_IN_SECRET)
    assert client.get(reverse("patient_list")).status_code == 200
    return client


def test_signing_in_gives_a_new_session_id(patient_user):
    client = Client()
    before = start_anonymous_session(client)

    response = sign_in(client, patient_user.email)

    assert response.status_code == 302
    after = session_key(client)
    assert after != before
    assert not SessionStore().exists(before)
    assert SessionStore(session_key=after).get("_auth_user_id") == str(patient_user.pk)


def test_the_two_factor_step_also_ends_with_a_new_session_id(front_desk):
    client = Client()
    before = start_anonymous_session(client)

    sign_in(client, front_desk.email, secret=STAND_IN_SECRET)

    assert session_key(client) != before
    assert not SessionStore().exists(before)


def test_signing_out_ends_the_session(desk_client):
    key = session_key(desk_client)

    response = desk_client.post(reverse("account_logout"))

    assert response.status_code == 302
    assert not SessionStore().exists(key)
    after = desk_client.get(reverse("patient_list"))
    assert after["Location"].startswith(reverse("account_login"))


def test_opening_the_sign_out_page_alone_does_not_sign_out(desk_client):
    assert desk_client.get(reverse("account_logout")).status_code == 200
    assert desk_client.get(reverse("patient_list")).status_code == 200


def test_staff_idle_for_sixteen_minutes_are_signed_out_with_a_reason(desk_client):
    key = session_key(desk_client)
    shift_clocks(desk_client, idle=16 * MINUTE)

    response = desk_client.get(reverse("patient_list"), follow=True)

    login, status = response.redirect_chain[0]
    assert status == 302
    assert login == reverse("account_login") + "?" + urlencode({"next": reverse("patient_list")})
    assert "For privacy you were signed out" in response.content.decode()
    assert not SessionStore().exists(key)
    assert desk_client.get(reverse("patient_list"))["Location"].startswith(reverse("account_login"))


def test_staff_active_within_fifteen_minutes_stay_signed_in(desk_client):
    shift_clocks(desk_client, idle=14 * MINUTE)

    response = desk_client.get(reverse("patient_list"))

    assert response.status_code == 200
    # The visit counts as activity: the idle clock starts again.
    assert time.time() - desk_client.session[SESSION_LAST_SEEN] < MINUTE


def test_the_idle_limit_follows_the_setting(desk_client, settings):
    settings.STAFF_IDLE_TIMEOUT_MINUTES = 5
    shift_clocks(desk_client, idle=6 * MINUTE)

    response = desk_client.get(reverse("patient_list"))

    assert response["Location"].startswith(reverse("account_login"))


def test_a_staff_session_ends_at_its_absolute_lifetime_even_when_busy(desk_client):
    lifetime = settings.STAFF_SESSION_MAX_HOURS * 60 * MINUTE
    shift_clocks(desk_client, idle=MINUTE, age=lifetime + MINUTE)

    response = desk_client.get(reverse("patient_list"))

    assert response["Location"].startswith(reverse("account_login"))
    assert "_auth_user_id" not in desk_client.session


def test_a_staff_session_just_inside_its_lifetime_carries_on(desk_client):
    lifetime = settings.STAFF_SESSION_MAX_HOURS * 60 * MINUTE
    shift_clocks(desk_client, idle=MINUTE, age=lifetime - 5 * MINUTE)

    assert desk_client.get(reverse("patient_list")).status_code == 200


def test_a_timed_out_htmx_request_sends_the_whole_page_to_sign_in(desk_client):
    shift_clocks(desk_client, idle=16 * MINUTE)

    response = desk_client.get(reverse("patient_list"), headers={"HX-Request": "true"})

    assert response["HX-Redirect"].startswith(reverse("account_login"))


def test_patients_are_not_held_to_the_staff_idle_limit(patient_user, patient):
    client = Client()
    sign_in(client, patient_user.email)
    shift_clocks(client, idle=16 * MINUTE, age=2 * 60 * MINUTE)

    assert client.get(reverse("portal_home")).status_code == 200


def test_signing_in_again_restarts_the_clocks(front_desk):
    client = Client()
    sign_in(client, front_desk.email, secret=STAND_IN_SECRET)

    started = client.session[SESSION_STARTED]

    assert time.time() - started < MINUTE


def login_attempt(client: Client, email: str, password: str):
    return client.post(reverse("account_login"), {"login": email, "password": password})


def test_after_five_failed_sign_ins_even_the_right_password_is_refused(patient_user):
    client = Client()
    for _ in range(5):
        failed = login_attempt(client, patient_user.email, "not-the-password")
        assert failed.status_code == 200
        assert "not correct" in failed.content.decode()

    sixth = login_attempt(client, patient_user.email, PASSWORD)

    assert sixth.status_code == 200
    assert "Too many failed login attempts" in sixth.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_limit_counts_failures_per_account_from_any_browser(patient_user):
    for _ in range(5):
        login_attempt(Client(), patient_user.email.upper(), "not-the-password")

    sixth = login_attempt(Client(), patient_user.email, PASSWORD)

    assert "Too many failed login attempts" in sixth.content.decode()


def test_four_failures_still_leave_room_for_the_right_password(patient_user, other_patient_user):
    client = Client()
    for _ in range(4):
        login_attempt(client, patient_user.email, "not-the-password")
    # Another account's failures do not count against this one.
    for _ in range(3):
        login_attempt(client, other_patient_user.email, "not-the-password")

    response = login_attempt(client, patient_user.email, PASSWORD)

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(patient_user.pk)


def test_a_patient_idle_past_the_limit_lands_on_sign_in_with_a_calm_message(
    patient_user, patient, settings
):
    assert settings.PATIENT_IDLE_TIMEOUT_MINUTES == 30
    client = Client()
    sign_in(client, patient_user.email)
    shift_clocks(client, idle=31 * MINUTE)
    key = session_key(client)

    response = client.get(reverse("portal_home"), follow=True)

    login, status = response.redirect_chain[0]
    assert status == 302
    assert login == reverse("account_login") + "?" + urlencode({"next": reverse("portal_home")})
    assert "For privacy you were signed out. Please sign in again." in response.content.decode()
    assert not SessionStore().exists(key)
    assert client.get(reverse("portal_home"))["Location"].startswith(reverse("account_login"))


def test_a_patient_active_within_the_limit_stays_signed_in(patient_user, patient):
    client = Client()
    sign_in(client, patient_user.email)
    shift_clocks(client, idle=29 * MINUTE, age=20 * 60 * MINUTE)

    assert client.get(reverse("portal_home")).status_code == 200
    assert time.time() - client.session[SESSION_LAST_SEEN] < MINUTE


def test_the_patient_idle_limit_follows_the_setting(patient_user, patient, settings):
    settings.PATIENT_IDLE_TIMEOUT_MINUTES = 5
    client = Client()
    sign_in(client, patient_user.email)
    shift_clocks(client, idle=6 * MINUTE)

    assert client.get(reverse("portal_home"))["Location"].startswith(reverse("account_login"))
