"""Personal API tokens: issued once, kept only as a hash, revocable, managed by their holder."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from allauth.mfa.models import Authenticator
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from imsclinic.accounts.errors import TokenRefused
from imsclinic.accounts.models import ApiToken, hash_secret
from imsclinic.accounts.tokens import api_token_authenticate, api_token_issue, api_token_revoke
from imsclinic.core.models import AuditEvent
from imsclinic.core.roles import Role
from tests.factories.clients import signed_in
from tests.factories.people import make_user

pytestmark = pytest.mark.django_db

PATIENTS_URL = "/api/v1/patients"


def bearer(raw: str) -> Client:
    return Client(headers={"Authorization": f"Bearer {raw}"})


def stored_text() -> str:
    """Everything the database holds about tokens and their audit rows, as one string."""
    tokens = list(ApiToken.objects.values())
    events = list(AuditEvent.objects.filter(object_type="api_token").values())
    return repr(tokens) + repr(events)


# The services


def test_a_token_is_stored_only_as_a_hash(cast):
    token, raw = api_token_issue(user=cast["front_desk"], name="report script", actor=None)
    assert raw.startswith(ApiToken.PREFIX)
    assert raw not in stored_text()
    assert raw[len(ApiToken.PREFIX) :] not in stored_text()
    token.refresh_from_db()
    assert token.token_hash == hash_secret(raw)
    assert token.hint == raw[:8]


def test_every_token_is_different(cast):
    raws = {api_token_issue(user=cast["owner"], name=f"t{n}", actor=None)[1] for n in range(5)}
    assert len(raws) == 5


def test_a_token_authenticates_its_holder_until_it_is_revoked(cast):
    token, raw = api_token_issue(user=cast["physio"], name="phone app", actor=cast["physio"])
    assert api_token_authenticate(raw) == cast["physio"]
    assert api_token_revoke(token=token, actor=cast["physio"]) is True
    assert api_token_authenticate(raw) is None


def test_revoking_twice_is_harmless_and_keeps_the_first_time(cast):
    token, _raw = api_token_issue(user=cast["physio"], name="phone app", actor=None)
    api_token_revoke(token=token, actor=None)
    first = ApiToken.objects.get(pk=token.pk).revoked_at
    assert api_token_revoke(token=token, actor=None) is False
    assert ApiToken.objects.get(pk=token.pk).revoked_at == first


def test_a_token_of_a_deactivated_account_fails(cast):
    _token, raw = api_token_issue(user=cast["owner"], name="backup", actor=None)
    cast["owner"].is_active = False
    cast["owner"].save(update_fields=["is_active"])
    assert api_token_authenticate(raw) is None


def test_a_patient_may_hold_a_token(cast):
    # Patients will book through the API later; what a token may reach is up to permissions.
    _token, raw = api_token_issue(user=cast["patient"], name="booking app", actor=None)
    assert api_token_authenticate(raw) == cast["patient"]


@pytest.mark.parametrize("raw", ["", "ims_", "ims_unknown", "x" * 500, "ims_ünïcode"])
def test_anything_that_is_not_a_live_token_authenticates_no_one(cast, raw):
    assert api_token_authenticate(raw) is None


def test_it_refuses_a_token_without_a_name(cast):
    with pytest.raises(TokenRefused) as refused:
        api_token_issue(user=cast["owner"], name="   ", actor=None)
    assert "name" in refused.value.errors
    assert not ApiToken.objects.exists()


def test_it_refuses_a_token_for_a_deactivated_account(cast):
    cast["front_desk"].is_active = False
    cast["front_desk"].save(update_fields=["is_active"])
    with pytest.raises(TokenRefused):
        api_token_issue(user=cast["front_desk"], name="script", actor=None)
    assert not ApiToken.objects.exists()


def test_last_use_is_stamped_at_most_once_a_minute(cast):
    token, raw = api_token_issue(user=cast["front_desk"], name="script", actor=None)
    api_token_authenticate(raw)
    token.refresh_from_db()
    assert token.last_used_at is not None

    recently = timezone.now() - dt.timedelta(seconds=20)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=recently)
    api_token_authenticate(raw)
    token.refresh_from_db()
    assert token.last_used_at == recently

    long_ago = timezone.now() - dt.timedelta(minutes=5)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=long_ago)
    api_token_authenticate(raw)
    token.refresh_from_db()
    assert token.last_used_at > long_ago


def test_issuing_and_revoking_are_audited_without_the_token(cast):
    token, raw = api_token_issue(user=cast["front_desk"], name="script", actor=cast["owner"])
    api_token_revoke(token=token, actor=cast["owner"])
    events = list(AuditEvent.objects.filter(object_type="api_token").order_by("id"))
    assert [(e.action, e.actor, e.object_id) for e in events] == [
        ("create", cast["owner"], str(token.pk)),
        ("update", cast["owner"], str(token.pk)),
    ]
    assert events[0].detail["holder"] == "desk@cedar.example"
    assert raw not in repr([e.detail for e in events])


# The commands


def run(command: str, *args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(command, *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_the_issue_command_prints_only_a_token_that_works(cast, patient):
    out, err = run("issue_api_token", "DESK@cedar.example", "--name", "nightly export")
    raw = out.strip()
    assert re.fullmatch(r"ims_[A-Za-z0-9_-]{40,}", raw)
    assert raw not in err
    assert "desk@cedar.example" in err
    response = bearer(raw).get(PATIENTS_URL)
    assert response.status_code == 200
    assert response.json()["count"] == 2
    assert ApiToken.objects.get().name == "nightly export"


def test_the_issue_command_names_the_token_when_not_told(cast):
    run("issue_api_token", "owner@cedar.example")
    assert ApiToken.objects.get().name.startswith("Command line")


def test_the_issue_command_refuses_an_unknown_email(db):
    with pytest.raises(CommandError, match=r"No account has the email address 'nobody@x\.example'"):
        run("issue_api_token", "nobody@x.example")
    assert not ApiToken.objects.exists()


def test_the_issue_command_refuses_staff_without_two_factor_authentication(db):
    make_user("newdesk@cedar.example", Role.FRONT_DESK, mfa=False)
    with pytest.raises(CommandError, match="need two-factor authentication"):
        run("issue_api_token", "newdesk@cedar.example")
    assert not ApiToken.objects.exists()


def test_a_staff_member_gets_a_token_once_their_authenticator_is_set_up(db):
    desk = make_user("newdesk@cedar.example", Role.FRONT_DESK, mfa=False)
    with pytest.raises(TokenRefused, match="Set up an authenticator app"):
        api_token_issue(user=desk, name="report script", actor=None)
    Authenticator.objects.create(user=desk, type=Authenticator.Type.TOTP, data={"secret": "x"})
    _token, raw = api_token_issue(user=desk, name="report script", actor=None)
    assert bearer(raw).get(PATIENTS_URL).status_code == 200


def test_a_patient_needs_no_authenticator_for_a_token(cast):
    out, _err = run("issue_api_token", cast["patient"].email)
    assert out.strip().startswith(ApiToken.PREFIX)


def test_the_revoke_command_revokes_one_token_by_its_hint(cast):
    _kept, kept_raw = api_token_issue(user=cast["owner"], name="keep", actor=None)
    gone, gone_raw = api_token_issue(user=cast["owner"], name="lose", actor=None)
    out, _err = run("revoke_api_token", "owner@cedar.example", "--hint", f"{gone.hint}…")
    assert "Revoked 1 token" in out
    assert bearer(gone_raw).get(PATIENTS_URL).status_code == 401
    assert bearer(kept_raw).get(PATIENTS_URL).status_code == 200


def test_the_revoke_command_revokes_every_token_with_all(cast):
    raws = [api_token_issue(user=cast["owner"], name=f"t{n}", actor=None)[1] for n in range(3)]
    out, _err = run("revoke_api_token", "owner@cedar.example", "--all")
    assert "Revoked 3 token" in out
    assert all(bearer(raw).get(PATIENTS_URL).status_code == 401 for raw in raws)


def test_the_revoke_command_says_when_no_token_matches(cast):
    api_token_issue(user=cast["owner"], name="keep", actor=None)
    with pytest.raises(CommandError, match="no active token"):
        run("revoke_api_token", "owner@cedar.example", "--hint", "ims_zzzz-not-it")
    assert ApiToken.objects.filter(revoked_at__isnull=True).count() == 1


def test_the_revoke_command_needs_a_hint_or_all(cast):
    with pytest.raises(CommandError):
        run("revoke_api_token", "owner@cedar.example")


# The page


@pytest.mark.parametrize(
    ("who", "status"),
    [("patient", 403), ("front_desk", 200), ("physio", 200), ("owner", 200)],
)
def test_the_token_page_is_for_staff(cast, who, status):
    assert signed_in(cast[who]).get(reverse("api_tokens")).status_code == status


def test_the_token_page_asks_a_visitor_to_sign_in(db):
    response = Client().get(reverse("api_tokens"))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_creating_a_token_shows_it_once(cast, patient):
    client = signed_in(cast["front_desk"])
    response = client.post(reverse("api_tokens"), {"name": "Monthly report"})
    assert response.status_code == 200
    page = response.content.decode()
    shown = re.search(r'value="(ims_[^"]+)"', page)
    assert shown is not None
    raw = shown.group(1)
    assert "will not be shown again" in page
    assert bearer(raw).get(PATIENTS_URL).status_code == 200
    again = client.get(reverse("api_tokens")).content.decode()
    assert raw not in again
    assert "Monthly report" in again
    assert f"{raw[:8]}…" in again
    assert "no-store" in response["Cache-Control"]


def test_the_token_page_sends_staff_without_an_authenticator_to_set_one_up(db):
    desk = make_user("newdesk@cedar.example", Role.FRONT_DESK, mfa=False)
    response = signed_in(desk).post(reverse("api_tokens"), {"name": "Monthly report"})
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_activate_totp")
    assert not ApiToken.objects.exists()


def test_a_token_without_a_name_is_refused_next_to_the_field(cast):
    response = signed_in(cast["front_desk"]).post(reverse("api_tokens"), {"name": ""})
    assert response.status_code == 200
    assert response.context["form"].errors["name"]
    assert 'aria-invalid="true"' in response.content.decode()
    assert not ApiToken.objects.exists()


def test_the_page_lists_only_the_holders_own_tokens(cast):
    api_token_issue(user=cast["front_desk"], name="desk script", actor=None)
    api_token_issue(user=cast["owner"], name="owner backup", actor=None)
    page = signed_in(cast["front_desk"]).get(reverse("api_tokens")).content.decode()
    assert "desk script" in page
    assert "owner backup" not in page


def test_revoking_from_the_page_asks_first_then_revokes(cast):
    token, raw = api_token_issue(user=cast["physio"], name="tablet", actor=None)
    client = signed_in(cast["physio"])
    url = reverse("api_token_revoke", args=[token.pk])
    confirm = client.get(url)
    assert confirm.status_code == 200
    assert "tablet" in confirm.content.decode()
    assert api_token_authenticate(raw) == cast["physio"]  # looking does not revoke

    response = client.post(url)
    assert response.status_code == 302
    assert response["Location"] == reverse("api_tokens")
    assert api_token_authenticate(raw) is None
    page = client.get(reverse("api_tokens")).content.decode()
    assert "Revoked" in page


def test_no_one_can_revoke_someone_elses_token(cast):
    token, raw = api_token_issue(user=cast["owner"], name="owner backup", actor=None)
    response = signed_in(cast["front_desk"]).post(reverse("api_token_revoke", args=[token.pk]))
    assert response.status_code == 404
    assert api_token_authenticate(raw) == cast["owner"]


def test_the_holder_comes_with_their_patient_record_and_nothing_left_to_read(
    cast, patient, django_assert_num_queries
):
    _token, raw = api_token_issue(user=patient.user, name="booking app", actor=None)
    api_token_authenticate(raw)  # stamps the first use
    with django_assert_num_queries(1):
        holder = api_token_authenticate(raw)
        assert holder is not None
        assert holder.patient == patient
        assert holder.patient.user is holder
        assert holder.patient.given_name == "Pat"
        assert holder.email == patient.user.email
        assert not holder.get_deferred_fields()


def test_a_staff_holder_has_no_patient_record_without_asking_again(cast, django_assert_num_queries):
    _token, raw = api_token_issue(user=cast["physio"], name="phone app", actor=None)
    api_token_authenticate(raw)
    with django_assert_num_queries(1):
        holder = api_token_authenticate(raw)
        assert holder is not None
        assert getattr(holder, "patient", None) is None
        assert holder.role == Role.PRACTITIONER
