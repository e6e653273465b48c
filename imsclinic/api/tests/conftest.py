"""Fixtures for API tests: tokens, a client that sends one, and the API as schemathesis sees it."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client

from imsclinic.accounts.models import User
from imsclinic.accounts.tokens import api_token_issue
from tests.factories.api import OPENAPI_URL


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


@pytest.fixture
def wsgi_app():
    """Django as a WSGI app that keeps the test's database connection open between calls.

    Django's test client does the same: left connected, these handlers would close the
    connection (and with it the test's transaction) at the end of each request.
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield WSGIHandler()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def api_schema(wsgi_app, db):
    return schemathesis.openapi.from_wsgi(OPENAPI_URL, wsgi_app)
