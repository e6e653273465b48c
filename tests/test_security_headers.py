"""Security headers on every page, and the stricter production behaviour over HTTPS."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from tests.factories.people import PASSWORD

pytestmark = pytest.mark.django_db

PUBLIC_PAGES = ["home", "faq", "what_is_ims", "account_login"]

PRODUCTION = {
    "DEBUG": False,
    "SECURE_SSL_REDIRECT": True,
    "SECURE_HSTS_SECONDS": 31_536_000,
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
    "SESSION_COOKIE_SECURE": True,
    "CSRF_COOKIE_SECURE": True,
}


def csp_directives(header: str) -> dict[str, list[str]]:
    directives: dict[str, list[str]] = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives[words[0]] = words[1:]
    return directives


@pytest.mark.parametrize("name", PUBLIC_PAGES)
def test_public_pages_send_a_content_security_policy_without_inline_script(
    client: Client, clinic, name: str
) -> None:
    response = client.get(reverse(name))
    assert response.status_code == 200
    policy = csp_directives(response["Content-Security-Policy"])
    for directive in ("script-src", "style-src", "default-src"):
        assert "'unsafe-inline'" not in policy[directive], directive
        assert "'unsafe-eval'" not in policy[directive], directive
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["object-src"] == ["'none'"]


@pytest.mark.parametrize("name", PUBLIC_PAGES)
def test_public_pages_refuse_framing_sniffing_and_leaking_the_address(
    client: Client, clinic, name: str
) -> None:
    response = client.get(reverse(name))
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def test_every_script_the_home_page_loads_is_a_file_or_carries_the_nonce(
    client: Client, clinic
) -> None:
    response = client.get(reverse("home"))
    html = response.content.decode()
    # Django names a nonce in the header only when a page used one.
    nonces = {
        word.strip("'")[len("nonce-") :]
        for word in csp_directives(response["Content-Security-Policy"])["script-src"]
        if word.startswith("'nonce-")
    }
    for chunk in html.split("<script")[1:]:
        tag = chunk.split(">", 1)[0]
        allowed = "src=" in tag or any(f'nonce="{nonce}"' in tag for nonce in nonces)
        assert allowed, f"inline script without the nonce: <script{tag}>"
    assert ' style="' not in html, "inline style attributes break style-src 'self'"


def test_the_patient_summary_is_never_stored_by_a_cache(client: Client, cast, patient) -> None:
    client.force_login(cast["front_desk"])
    response = client.get(reverse("patient_detail", args=[patient.pk]))
    assert response.status_code == 200
    cache_control = response["Cache-Control"]
    assert "no-store" in cache_control and "private" in cache_control


def test_the_patient_list_is_never_stored_by_a_cache(client: Client, cast) -> None:
    client.force_login(cast["physio"])
    response = client.get(reverse("patient_list"))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


def test_the_patient_portal_is_never_stored_by_a_cache(client: Client, cast, patient) -> None:
    client.force_login(cast["patient"])
    response = client.get(reverse("portal_home"))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


def test_the_api_is_never_stored_by_a_cache(client: Client) -> None:
    response = client.get("/api/v1/openapi.json")
    assert "no-store" in response.get("Cache-Control", "")


@override_settings(**PRODUCTION)
def test_in_production_plain_http_is_sent_to_https(client: Client, clinic) -> None:
    response = client.get("/faq/")
    assert response.status_code == 301
    assert response["Location"].startswith("https://")


@override_settings(**PRODUCTION)
def test_in_production_https_responses_carry_strict_transport_security(
    client: Client, clinic
) -> None:
    response = client.get("/", secure=True)
    assert response.status_code == 200
    hsts = response["Strict-Transport-Security"]
    assert "max-age=31536000" in hsts and "includeSubDomains" in hsts


@override_settings(**PRODUCTION)
def test_in_production_the_session_and_csrf_cookies_are_secure_and_hidden_from_scripts(
    cast, patient
) -> None:
    client = Client(enforce_csrf_checks=False)
    client.get(reverse("account_login"), secure=True)
    response = client.post(
        reverse("account_login"),
        {"login": cast["patient"].email, "password": PASSWORD},
        secure=True,
    )
    assert response.status_code == 302, "the patient signs in"
    session = response.cookies["sessionid"]
    assert session["secure"] and session["httponly"]
    assert session["samesite"] == "Lax"
    csrf = client.cookies["csrftoken"]
    assert csrf["secure"]


def test_outside_production_no_strict_transport_security_is_sent(client: Client, clinic) -> None:
    # HSTS on a development machine would pin localhost to HTTPS in the developer's browser.
    response = client.get("/", secure=True)
    assert "Strict-Transport-Security" not in response


def test_a_browser_asking_for_favicon_ico_is_sent_to_the_clinic_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"].endswith("img/favicon.svg")
