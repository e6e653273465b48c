"""Staff join only by the owner's invitation, and set up MFA before seeing patients."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import SECRET_SESSION_KEY
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from imsclinic.accounts.models import StaffInvitation, User, hash_secret
from imsclinic.accounts.services import staff_invite
from imsclinic.clinic.models import Practitioner
from imsclinic.core.models import Action, AuditEvent
from imsclinic.core.roles import Role
from tests.factories.accounts import start_anonymous_session, totp_code

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "quiet-harbour-lantern-42"


def client_for(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def invitation_path(message: mail.EmailMessage) -> str:
    match = re.search(
        re.escape(settings.SITE_URL) + r"(/accounts/invitation/[^/\s]+/)", str(message.body)
    )
    assert match, message.body
    return match.group(1)


@pytest.fixture
def unlinked_practitioner(location) -> Practitioner:
    practitioner = Practitioner.objects.create(
        first_name="Priya",
        last_name="Newhire",
        slug="priya-newhire",
        registration_body="College of Physical Therapists of BC",
        registration_number="PT-2044",
    )
    practitioner.locations.add(location)
    return practitioner


def invite(owner: User, django_capture_on_commit_callbacks, **overrides: object) -> str:
    """Send an invitation as the owner through the page; return the emailed link's path."""
    data: dict[str, object] = {
        "email": "new.desk@cedar.example",
        "role": Role.FRONT_DESK,
        "first_name": "Nia",
    }
    data.update(overrides)
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(owner).post(reverse("invite_staff"), data)
    assert response.status_code == 302, response.context["form"].errors
    return invitation_path(mail.outbox[-1])


@pytest.mark.parametrize(
    ("who", "expected"),
    [("anonymous", 302), ("patient", 403), ("front_desk", 403), ("physio", 403), ("owner", 200)],
)
def test_only_the_owner_may_open_the_staff_invitation_page(cast, who, expected):
    response = client_for(cast[who]).get(reverse("invite_staff"))

    assert response.status_code == expected
    if who == "anonymous":
        assert response["Location"].startswith(reverse("account_login"))


@pytest.mark.parametrize("who", ["patient", "front_desk", "physio"])
def test_nobody_but_the_owner_can_send_an_invitation(cast, who):
    response = client_for(cast[who]).post(
        reverse("invite_staff"), {"email": "sneaky@cedar.example", "role": Role.OWNER}
    )

    assert response.status_code == 403
    assert not StaffInvitation.objects.exists()
    assert mail.outbox == []


def test_the_owner_invites_a_new_staff_member_who_gets_a_link_by_email(
    owner, django_capture_on_commit_callbacks
):
    path = invite(owner, django_capture_on_commit_callbacks)

    invitation = StaffInvitation.objects.get()
    token = path.rstrip("/").rsplit("/", 1)[-1]
    assert invitation.email == "new.desk@cedar.example"
    assert invitation.role == Role.FRONT_DESK
    assert invitation.invited_by == owner
    # Only the hash is kept: the database alone cannot rebuild the link.
    assert invitation.token_hash == hash_secret(token)
    assert token not in invitation.token_hash
    lifetime = invitation.expires_at - invitation.created_at
    assert dt.timedelta(days=7) - dt.timedelta(seconds=5) < lifetime <= dt.timedelta(days=7)
    message = mail.outbox[0]
    assert message.to == ["new.desk@cedar.example"]
    assert settings.SITE_URL + path in message.body
    event = AuditEvent.objects.get(object_type="staff_invitation")
    assert (event.action, event.actor_id, event.object_id) == (
        Action.CREATE,
        owner.pk,
        str(invitation.pk),
    )


def test_the_invitation_page_lists_invitations_with_their_state(
    owner, django_capture_on_commit_callbacks
):
    invite(owner, django_capture_on_commit_callbacks)
    invite(owner, django_capture_on_commit_callbacks, email="gone@cedar.example")
    gone = StaffInvitation.objects.get(email="gone@cedar.example")
    client_for(owner).post(reverse("revoke_invitation", args=[gone.pk]))

    page = client_for(owner).get(reverse("invite_staff")).content.decode()

    assert "new.desk@cedar.example" in page
    assert "Waiting, until" in page
    assert "Revoked" in page
    assert page.count(">Revoke</button>") == 1  # only the open one can still be revoked


@pytest.mark.parametrize("email", ["pat@patients.example", "PHYSIO@cedar.example"])
def test_it_refuses_to_invite_an_address_that_already_has_an_account(cast, email):
    response = client_for(cast["owner"]).post(
        reverse("invite_staff"), {"email": email, "role": Role.FRONT_DESK}
    )

    assert response.status_code == 200
    assert (
        "Someone already has an account with this email address."
        in (response.context["form"].errors["email"])
    )
    assert not StaffInvitation.objects.exists()
    assert mail.outbox == []


def test_it_refuses_a_second_invitation_while_one_is_waiting(
    owner, django_capture_on_commit_callbacks
):
    invite(owner, django_capture_on_commit_callbacks)

    response = client_for(owner).post(
        reverse("invite_staff"), {"email": "New.Desk@cedar.example", "role": Role.OWNER}
    )

    assert response.status_code == 200
    assert "already has an invitation waiting" in response.content.decode()
    assert StaffInvitation.objects.count() == 1


def test_a_revoked_invitation_can_be_replaced_by_a_new_one(
    owner, django_capture_on_commit_callbacks
):
    invite(owner, django_capture_on_commit_callbacks)
    client_for(owner).post(reverse("revoke_invitation", args=[StaffInvitation.objects.get().pk]))

    invite(owner, django_capture_on_commit_callbacks, role=Role.OWNER)

    assert StaffInvitation.objects.count() == 2


def test_a_practitioner_profile_can_only_be_linked_for_the_practitioner_role(
    owner, unlinked_practitioner
):
    response = client_for(owner).post(
        reverse("invite_staff"),
        {
            "email": "priya@cedar.example",
            "role": Role.FRONT_DESK,
            "practitioner": unlinked_practitioner.pk,
        },
    )

    assert response.status_code == 200
    assert response.context["form"].errors["practitioner"]
    assert not StaffInvitation.objects.exists()


def test_the_form_offers_only_practitioner_profiles_without_an_account(cast, unlinked_practitioner):
    form = client_for(cast["owner"]).get(reverse("invite_staff")).context["form"]

    assert list(form.fields["practitioner"].queryset) == [unlinked_practitioner]


def test_an_invited_practitioner_joins_sets_up_mfa_and_then_reaches_the_patient_list(
    owner, unlinked_practitioner, django_capture_on_commit_callbacks
):
    path = invite(
        owner,
        django_capture_on_commit_callbacks,
        email="priya@cedar.example",
        role=Role.PRACTITIONER,
        first_name="Priya",
        last_name="Newhire",
        practitioner=unlinked_practitioner.pk,
    )
    newcomer = Client()
    page = newcomer.get(path)
    assert page.status_code == 200
    assert "priya@cedar.example" in page.content.decode()

    mismatch = newcomer.post(
        path, {"password1": NEW_PASSWORD, "password2": "other-" + NEW_PASSWORD}
    )
    weak = newcomer.post(path, {"password1": "password", "password2": "password"})
    assert mismatch.context["form"].errors["password2"]
    assert weak.context["form"].errors["password1"]
    assert not User.objects.filter(email="priya@cedar.example").exists()

    session_before = start_anonymous_session(newcomer)
    accepted = newcomer.post(path, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})

    assert accepted.status_code == 302
    assert accepted["Location"] == reverse("mfa_activate_totp")
    assert newcomer.cookies[settings.SESSION_COOKIE_NAME].value != session_before
    assert not SessionStore().exists(session_before)
    user = User.objects.get(email="priya@cedar.example")
    assert user.role == Role.PRACTITIONER
    assert (user.first_name, user.last_name) == ("Priya", "Newhire")
    assert user.check_password(NEW_PASSWORD)
    assert EmailAddress.objects.get(user=user).verified
    unlinked_practitioner.refresh_from_db()
    assert unlinked_practitioner.user == user
    invitation = StaffInvitation.objects.get()
    assert invitation.accepted_at is not None
    assert invitation.user == user

    # No patient data until the authenticator app is set up.
    blocked = newcomer.get(reverse("patient_list"))
    assert blocked["Location"] == reverse("mfa_activate_totp")

    setup = newcomer.get(reverse("mfa_activate_totp"))
    assert setup.status_code == 200
    secret = newcomer.session[SECRET_SESSION_KEY]
    assert secret in setup.content.decode()
    activated = newcomer.post(reverse("mfa_activate_totp"), {"code": totp_code(secret)})

    assert activated["Location"] == reverse("mfa_view_recovery_codes")
    assert Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
    assert Authenticator.objects.filter(user=user, type=Authenticator.Type.RECOVERY_CODES).exists()
    assert newcomer.get(reverse("mfa_view_recovery_codes")).status_code == 200
    assert newcomer.get(reverse("patient_list")).status_code == 200


def test_accepting_is_written_to_the_audit_log(owner, django_capture_on_commit_callbacks):
    path = invite(owner, django_capture_on_commit_callbacks)

    Client().post(path, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})

    user = User.objects.get(email="new.desk@cedar.example")
    event = AuditEvent.objects.get(object_type="user")
    assert (event.action, event.actor_id, event.object_id) == (Action.CREATE, user.pk, str(user.pk))


def test_an_invitation_link_works_only_once(owner, django_capture_on_commit_callbacks):
    path = invite(owner, django_capture_on_commit_callbacks)
    Client().post(path, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})

    again = Client().post(
        path, {"password1": "another-" + NEW_PASSWORD, "password2": "another-" + NEW_PASSWORD}
    )

    assert again.status_code == 410
    assert "ask the clinic owner" in again.content.decode().lower()
    assert User.objects.get(email="new.desk@cedar.example").check_password(NEW_PASSWORD)


def test_an_expired_invitation_link_is_refused(owner, django_capture_on_commit_callbacks):
    path = invite(owner, django_capture_on_commit_callbacks)
    StaffInvitation.objects.update(expires_at=timezone.now() - dt.timedelta(minutes=1))

    looked = Client().get(path)
    tried = Client().post(path, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})

    assert looked.status_code == 410
    assert tried.status_code == 410
    assert "no longer works" in looked.content.decode()
    assert not User.objects.filter(email="new.desk@cedar.example").exists()


def test_a_revoked_invitation_link_is_refused(owner, django_capture_on_commit_callbacks):
    path = invite(owner, django_capture_on_commit_callbacks)
    invitation = StaffInvitation.objects.get()

    revoked = client_for(owner).post(reverse("revoke_invitation", args=[invitation.pk]))
    tried = Client().post(path, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})

    assert revoked.status_code == 302
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None
    assert tried.status_code == 410
    assert not User.objects.filter(email="new.desk@cedar.example").exists()
    assert AuditEvent.objects.filter(
        object_type="staff_invitation", action=Action.UPDATE, object_id=str(invitation.pk)
    ).exists()


def test_an_unknown_invitation_link_is_not_found(db):
    response = Client().get(reverse("accept_invitation", args=["not-a-real-token"]))

    assert response.status_code == 404
    assert "no longer works" in response.content.decode()


@pytest.mark.parametrize("who", ["patient", "front_desk", "physio"])
def test_only_the_owner_can_revoke_an_invitation(cast, who, django_capture_on_commit_callbacks):
    invite(cast["owner"], django_capture_on_commit_callbacks)
    invitation = StaffInvitation.objects.get()

    response = client_for(cast[who]).post(reverse("revoke_invitation", args=[invitation.pk]))

    assert response.status_code == 403
    invitation.refresh_from_db()
    assert invitation.revoked_at is None


def test_revoking_needs_a_post(owner, django_capture_on_commit_callbacks):
    invite(owner, django_capture_on_commit_callbacks)
    invitation = StaffInvitation.objects.get()

    response = client_for(owner).get(reverse("revoke_invitation", args=[invitation.pk]))

    assert response.status_code == 405
    invitation.refresh_from_db()
    assert invitation.revoked_at is None


def test_someone_already_signed_in_is_asked_to_sign_out_before_accepting(
    cast, django_capture_on_commit_callbacks
):
    path = invite(cast["owner"], django_capture_on_commit_callbacks)

    response = client_for(cast["patient"]).post(
        path, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    )

    assert response.status_code == 200
    assert "sign out first" in response.content.decode()
    assert not User.objects.filter(email="new.desk@cedar.example").exists()


def test_an_address_that_signed_up_as_a_patient_meanwhile_cannot_accept(
    owner, django_capture_on_commit_callbacks
):
    path = invite(owner, django_capture_on_commit_callbacks)
    User.objects.create_user("new.desk@cedar.example", "whatever-password-1", role=Role.PATIENT)

    response = Client().post(path, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})

    assert response.status_code == 200
    assert "already exists" in response.content.decode()
    assert User.objects.get(email="new.desk@cedar.example").role == Role.PATIENT
    assert StaffInvitation.objects.get().accepted_at is None


def test_the_service_refuses_a_patient_role(owner):
    with pytest.raises(Exception, match="staff role"):
        staff_invite(email="x@cedar.example", role=Role.PATIENT, actor=owner)
    assert not StaffInvitation.objects.exists()
