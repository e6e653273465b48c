"""A request with a bearer token is who its token says, and nothing of a browser session."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from imsclinic.accounts.tokens import api_token_issue

pytestmark = pytest.mark.django_db

PATIENTS_URL = "/api/v1/patients"


def test_a_token_request_acts_as_the_token_holder_even_beside_another_session(
    cast: dict[str, Any], patient: Any
) -> None:
    # The browser is signed in as the practitioner; the script's token is the patient's own.
    _token, raw = api_token_issue(user=cast["patient"], name="script", actor=None)
    client = Client(headers={"Authorization": f"Bearer {raw}"})
    client.force_login(cast["physio"])

    response = client.get(PATIENTS_URL)

    assert response.status_code == 403  # a patient may not list patients
    assert settings.SESSION_COOKIE_NAME not in response.cookies
    assert "Cookie" not in response.get("Vary", "")


def test_a_token_request_still_gets_the_headers_that_keep_health_data_private(
    cast: dict[str, Any], patient: Any
) -> None:
    _token, raw = api_token_issue(user=cast["front_desk"], name="script", actor=None)

    response = Client(headers={"Authorization": f"Bearer {raw}"}).get(PATIENTS_URL)

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert response["X-Content-Type-Options"] == "nosniff"


def test_a_page_still_has_its_session(cast: dict[str, Any]) -> None:
    client = Client()
    client.force_login(cast["front_desk"])

    response = client.get("/staff/patients/")

    assert response.status_code == 200
    assert response.wsgi_request.user == cast["front_desk"]
