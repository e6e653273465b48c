"""allauth hooks: everyone who signs up on their own is a patient; staff keep their MFA."""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.mfa.adapter import DefaultMFAAdapter
from allauth.mfa.models import Authenticator
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


class AccountAdapter(DefaultAccountAdapter):
    def save_user(self, request: HttpRequest, user: Any, form: Any, commit: bool = True) -> Any:
        """Save a self-registered user as a patient whatever the form carried."""
        from imsclinic.accounts.models import Role

        user = super().save_user(request, user, form, commit=False)
        # Public sign-up only ever makes patients; staff arrive by invitation.
        user.role = Role.PATIENT
        user.is_staff = False
        user.is_superuser = False
        if commit:
            user.save()
        return user

    def get_login_redirect_url(self, request: HttpRequest) -> str:
        return reverse("after_login")

    def get_signup_redirect_url(self, request: HttpRequest) -> str:
        return reverse("after_login")


class MFAAdapter(DefaultMFAAdapter):
    error_messages = {
        **DefaultMFAAdapter.error_messages,
        "cannot_delete_authenticator": _(
            "Staff accounts open patient records, so two-factor authentication stays on. "
            "To move it to a new phone, ask the clinic owner."
        ),
    }

    def can_delete_authenticator(self, authenticator: Authenticator) -> bool:
        """Refuse to switch off a staff member's authenticator app."""
        if authenticator.type == Authenticator.Type.TOTP and authenticator.user.is_clinic_staff:
            return False
        return super().can_delete_authenticator(authenticator)
