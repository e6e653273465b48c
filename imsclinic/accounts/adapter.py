"""allauth hooks: everyone who signs up on their own is a patient; staff keep their MFA.

allauth's emails speak for the clinic: its name (not the host and port the request came to)
and links on `SITE_URL`, the address the site is served on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from allauth.account.adapter import DefaultAccountAdapter
from allauth.mfa.adapter import DefaultMFAAdapter
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

# The links allauth puts in its emails' context, built from the request's host.
EMAIL_LINKS = ("activate_url", "password_reset_url", "signup_url")


@dataclass(frozen=True)
class EmailSite:
    """What allauth's templates read as `current_site`: the clinic, at SITE_URL."""

    name: str
    domain: str


def on_site(url: str) -> str:
    """Return the link with its scheme and host replaced by SITE_URL's."""
    parts = urlsplit(url)
    return settings.SITE_URL + parts.path + (f"?{parts.query}" if parts.query else "")


def email_context() -> dict[str, Any]:
    """Return the clinic's name and address for an account email."""
    from imsclinic.clinic.models import Clinic

    clinic = Clinic.current()
    name = clinic.name if clinic is not None else "imsclinic"
    return {
        "clinic": clinic,
        "clinic_name": name,
        "site_url": settings.SITE_URL,
        "current_site": EmailSite(name=name, domain=urlsplit(settings.SITE_URL).netloc),
    }


class AccountAdapter(DefaultAccountAdapter):
    def send_mail(self, template_prefix: str, email: str, context: dict[str, Any]) -> None:
        """Send allauth's email in the clinic's name, its links on SITE_URL."""
        context = {**context, **email_context()}
        for key in EMAIL_LINKS:
            if isinstance(context.get(key), str):
                context[key] = on_site(context[key])
        super().send_mail(template_prefix, email, context)

    def save_user(self, request: HttpRequest, user: Any, form: Any, commit: bool = True) -> Any:
        """Save a self-registered user as a patient whatever the form carried."""
        from imsclinic.core.roles import Role

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
