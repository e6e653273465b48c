"""Test clients signed in as someone (the root conftest makes force_login a full sign-in)."""

from __future__ import annotations

from django.test import Client

from imsclinic.accounts.models import User


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client
