"""Helpers for API tests: a token for anyone in the standard cast, and a client that sends it."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from imsclinic.accounts.models import User
from imsclinic.accounts.tokens import api_token_issue


@pytest.fixture
def token_for(db: None) -> Callable[[User], str]:
    """Return a function that issues a fresh raw token for a user."""

    def issue(user: User) -> str:
        _token, raw = api_token_issue(user=user, name="tests", actor=None)
        return raw

    return issue


@pytest.fixture
def api_client(token_for: Callable[[User], str]) -> Callable[[User | None], Client]:
    """Return a function giving a client that sends the user's token (none for None)."""

    def make(user: User | None) -> Client:
        if user is None:
            return Client()
        return Client(headers={"Authorization": f"Bearer {token_for(user)}"})

    return make
