"""Every public page opens for a visitor, with its own title and description."""

from __future__ import annotations

import pytest
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse

from imsclinic.web.tests.helpers import description_of, text_of, title_of

pytestmark = pytest.mark.django_db

DASH = "\N{EN DASH}"  # as the pages print ranges

PUBLIC_PAGES = [
    "home",
    "what_is_ims",
    "safety",
    "ims_vs_dry_needling",
    "faq",
    "practitioners",
    "locations",
    "book",
]


@pytest.mark.parametrize("name", PUBLIC_PAGES)
def test_each_public_page_opens_for_an_anonymous_visitor(client: Client, clinic, location, name):
    response = client.get(reverse(name))
    assert response.status_code == 200
    assert response.content.count(b"<h1") == 1
    assert title_of(response.content).endswith(f"· {clinic.name}")
    assert len(description_of(response.content)) > 60


def test_every_public_page_has_its_own_title_and_description(client: Client, clinic, location):
    pages = [client.get(reverse(name)).content for name in PUBLIC_PAGES]
    assert len({title_of(page) for page in pages}) == len(PUBLIC_PAGES)
    assert len({description_of(page) for page in pages}) == len(PUBLIC_PAGES)


def test_the_public_pages_open_before_the_clinic_is_set_up(client: Client, db):
    for name in PUBLIC_PAGES:
        assert client.get(reverse(name)).status_code == 200, name


def test_the_home_page_says_what_ims_is_and_leads_to_booking(client: Client, clinic):
    response = client.get(reverse("home"))
    text = text_of(response.content)
    assert "Nothing is injected" in text
    assert (
        f'href="{reverse("book")}" role="button">Book an appointment<' in response.content.decode()
    )
    for name in ("what_is_ims", "safety", "practitioners", "locations"):
        assert f'href="{reverse(name)}"' in response.content.decode()


def test_the_home_page_shows_what_the_owner_wrote_about_the_clinic(client: Client, clinic):
    clinic.about = "A quiet clinic near the beach."
    clinic.save(update_fields=["about"])
    assert "A quiet clinic near the beach." in text_of(client.get(reverse("home")).content)


def test_the_ims_page_answers_does_it_work_honestly_with_its_sources(client: Client, clinic):
    text = text_of(client.get(reverse("what_is_ims")).content)
    assert "Does it work?" in text
    assert "Trials of the Gunn IMS method itself are few" in text
    assert "Gattie E" in text and f"2017;47(3):133{DASH}149" in text
    assert "Espejo-Antúnez L" in text and f"2017;33:46{DASH}57" in text
    assert "IMS is not a cure" in text


def test_the_safety_page_gives_side_effect_figures_and_red_flags(client: Client, clinic):
    text = text_of(client.get(reverse("safety")).content)
    assert "7,629 treatments" in text and "20,464 sessions" in text
    assert "1 in every 1,000 sessions" in text
    assert "bleeding disorder" in text and "lymphoedema" in text
    assert "shortness of breath or chest pain" in text
    assert "Call 911 or go to the nearest emergency department" in text


def test_the_current_page_is_marked_in_the_main_navigation(client: Client, clinic):
    page = client.get(reverse("safety")).content.decode()
    assert f'href="{reverse("safety")}" aria-current="page"' in page
    assert f'href="{reverse("faq")}" aria-current="page"' not in page


def test_an_unknown_address_gets_a_helpful_not_found_page(client: Client, clinic, settings):
    settings.DEBUG = False
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "We could not find that page" in text_of(response.content)
    assert f'href="{reverse("book")}"' in response.content.decode()


def test_public_pages_refuse_to_be_posted_to(client: Client, clinic):
    assert client.post(reverse("faq")).status_code == 405


def test_the_server_error_page_renders_without_a_request_or_database():
    page = render_to_string("500.html")
    assert page.count("<h1") == 1 and "Something went wrong on our side" in page


def test_a_missing_page_answers_the_same_for_the_same_signed_in_person(
    client: Client, clinic, patient_user, settings
):
    settings.DEBUG = False
    client.force_login(patient_user)
    assert client.get("/nothing-here/").content == client.get("/nothing-here/").content
