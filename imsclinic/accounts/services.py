"""Changes to accounts: patients registering themselves, staff invitations."""

from __future__ import annotations

import datetime as dt
from typing import Any

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from imsclinic.accounts.errors import InvitationRefused, InvitationUnusable
from imsclinic.accounts.models import StaffInvitation, User, hash_secret, new_secret
from imsclinic.clinic.models import Practitioner
from imsclinic.core.audit import audit_record
from imsclinic.core.models import Action, ObjectType
from imsclinic.core.roles import STAFF_ROLES, Role
from imsclinic.patients.models import Patient
from imsclinic.patients.services import patient_create

INVITATION_LIFETIME = dt.timedelta(days=7)


def patient_signup_complete(
    *,
    user: User,
    first_name: str,
    last_name: str,
    date_of_birth: dt.date,
    phone: str = "",
    request: HttpRequest | None = None,
) -> Patient:
    """Give a newly signed-up patient their name and their own patient record."""
    with transaction.atomic():
        user.first_name = first_name
        user.last_name = last_name
        user.save(update_fields=["first_name", "last_name"])
        # The patient is the one creating their record, so the audit row names them.
        return patient_create(
            data={
                "given_name": first_name,
                "family_name": last_name,
                "date_of_birth": date_of_birth,
                "phone": phone,
                "email": user.email,
            },
            user=user,
            actor=user,
            request=request,
        )


def email_in_use(email: str) -> bool:
    """Say whether any account already signs in with (or has added) this email address."""
    return (
        User.objects.filter(email__iexact=email).exists()
        or EmailAddress.objects.filter(email__iexact=email).exists()
    )


def open_invitations() -> Any:
    """Return the invitations that can still be accepted."""
    return StaffInvitation.objects.filter(
        accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now()
    )


def invitation_url(token: str) -> str:
    """Return the absolute link a new staff member follows to accept an invitation."""
    return settings.SITE_URL + reverse("accept_invitation", kwargs={"token": token})


def staff_invite(
    *,
    email: str,
    role: str,
    actor: User,
    first_name: str = "",
    last_name: str = "",
    practitioner: Practitioner | None = None,
    request: HttpRequest | None = None,
) -> tuple[StaffInvitation, str]:
    """Invite a new staff member by email; return the invitation and its one-time token."""
    email = email.strip().lower()
    if role not in STAFF_ROLES:
        raise InvitationRefused(_("Choose a staff role."), field="role")
    if practitioner is not None and role != Role.PRACTITIONER:
        raise InvitationRefused(
            _("Only a practitioner can be linked to a practitioner profile."), field="practitioner"
        )
    token = new_secret()
    with transaction.atomic(durable=True):
        if email_in_use(email):
            raise InvitationRefused(
                _("Someone already has an account with this email address."), field="email"
            )
        if open_invitations().filter(email__iexact=email).exists():
            raise InvitationRefused(
                _(
                    "This address already has an invitation waiting. Revoke it first "
                    "to send a new one."
                ),
                field="email",
            )
        if practitioner is not None:
            practitioner = Practitioner.objects.select_for_update(no_key=True).get(
                pk=practitioner.pk
            )
            if practitioner.user_id is not None:
                raise InvitationRefused(
                    _("This practitioner already has an account."), field="practitioner"
                )
        invitation = StaffInvitation.objects.create(
            email=email,
            role=role,
            first_name=first_name.strip(),
            last_name=last_name.strip(),
            practitioner=practitioner,
            token_hash=hash_secret(token),
            invited_by=actor,
            expires_at=timezone.now() + INVITATION_LIFETIME,
        )
        audit_record(
            actor=actor,
            action=Action.CREATE,
            object_type=ObjectType.STAFF_INVITATION,
            object_id=invitation.pk,
            request=request,
            detail={"role": role, "practitioner": practitioner.pk if practitioner else None},
        )
        transaction.on_commit(lambda: _send_invitation(invitation, token))
    return invitation, token


def _send_invitation(invitation: StaffInvitation, token: str) -> None:
    from imsclinic.clinic.models import Clinic

    context = {
        "invitation": invitation,
        "url": invitation_url(token),
        "clinic": Clinic.current(),
        "days": INVITATION_LIFETIME.days,
    }
    subject = render_to_string("accounts/email/staff_invitation_subject.txt", context)
    send_mail(
        subject=" ".join(subject.split()),
        message=render_to_string("accounts/email/staff_invitation_message.txt", context),
        from_email=None,
        recipient_list=[invitation.email],
    )


def staff_invitation_revoke(
    *, invitation: StaffInvitation, actor: User, request: HttpRequest | None = None
) -> bool:
    """Withdraw an invitation nobody has accepted yet; say whether it was still open."""
    with transaction.atomic(durable=True):
        invitation = StaffInvitation.objects.select_for_update(no_key=True).get(pk=invitation.pk)
        if invitation.accepted_at is not None or invitation.revoked_at is not None:
            return False
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
        audit_record(
            actor=actor,
            action=Action.UPDATE,
            object_type=ObjectType.STAFF_INVITATION,
            object_id=invitation.pk,
            request=request,
            detail={"revoked": True},
        )
    return True


def invitation_for_token(token: str) -> StaffInvitation | None:
    """Return the invitation a link's token belongs to, open or not, or None."""
    return (
        StaffInvitation.objects.select_related("practitioner")
        .filter(token_hash=hash_secret(token))
        .first()
    )


def staff_invitation_accept(
    *, invitation: StaffInvitation, password: str, request: HttpRequest | None = None
) -> User:
    """Create the invited staff member's account with a verified email address."""
    with transaction.atomic(durable=True):
        invitation = StaffInvitation.objects.select_for_update(no_key=True).get(pk=invitation.pk)
        if not invitation.is_open:
            raise InvitationUnusable
        if email_in_use(invitation.email):
            raise InvitationRefused(
                _(
                    "An account with this email address already exists. Ask the clinic owner "
                    "to invite you with another address."
                )
            )
        user = User.objects.create_user(
            invitation.email,
            password,
            role=invitation.role,
            first_name=invitation.first_name,
            last_name=invitation.last_name,
        )
        # The owner sent the link to this address, so following it proves the address.
        EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
        if invitation.practitioner_id is not None:
            linked = Practitioner.objects.filter(
                pk=invitation.practitioner_id, user__isnull=True
            ).update(user=user)
            if not linked:
                raise InvitationRefused(
                    _("The practitioner profile in this invitation already has an account.")
                )
        invitation.accepted_at = timezone.now()
        invitation.user = user
        invitation.save(update_fields=["accepted_at", "user"])
        audit_record(
            actor=user,
            action=Action.CREATE,
            object_type=ObjectType.USER,
            object_id=user.pk,
            request=request,
            detail={"invitation": invitation.pk, "role": user.role},
        )
    return user
