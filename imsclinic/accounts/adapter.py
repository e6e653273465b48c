"""allauth hooks: everyone who signs up on their own is a patient."""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from django.http import HttpRequest
from django.urls import reverse


class AccountAdapter(DefaultAccountAdapter):
    def save_user(self, request: HttpRequest, user: Any, form: Any, commit: bool = True) -> Any:
        from imsclinic.accounts.models import Role

        user = super().save_user(request, user, form, commit=False)
        user.role = Role.PATIENT
        if commit:
            user.save()
        return user

    def get_login_redirect_url(self, request: HttpRequest) -> str:
        return reverse("after_login")
