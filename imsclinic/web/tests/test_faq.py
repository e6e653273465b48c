"""The FAQ shows what the owner has published, in the owner's order."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from imsclinic.web.content import DEFAULT_FAQ
from imsclinic.web.models import FaqEntry
from imsclinic.web.tests.helpers import text_of

pytestmark = pytest.mark.django_db


def test_the_faq_shows_published_entries_in_the_owners_order(client: Client, clinic):
    FaqEntry.objects.create(question="Second question?", answer="Second answer.", order=2)
    FaqEntry.objects.create(question="First question?", answer="First answer.", order=1)
    FaqEntry.objects.create(
        question="Draft question?", answer="Not ready.", order=0, is_published=False
    )

    text = text_of(client.get(reverse("faq")).content)

    assert "Draft question?" not in text and "Not ready." not in text
    assert (
        text.index("First question?") < text.index("First answer.") < text.index("Second question?")
    )


def test_an_owners_edit_to_an_entry_appears_on_the_page(client: Client, clinic):
    entry = FaqEntry.objects.create(question="Does it hurt?", answer="A little.", order=1)
    assert "A little." in text_of(client.get(reverse("faq")).content)

    entry.answer = "It feels like a deep ache.\n\nThen the muscle relaxes."
    entry.save(update_fields=["answer"])
    page = client.get(reverse("faq")).content.decode()

    assert "A little." not in page
    assert "<p>It feels like a deep ache.</p>" in page and "<p>Then the muscle relaxes.</p>" in page


def test_unpublishing_an_entry_takes_it_off_the_page(client: Client, clinic):
    entry = FaqEntry.objects.create(question="Old question?", answer="Old answer.")
    entry.is_published = False
    entry.save(update_fields=["is_published"])
    assert "Old question?" not in text_of(client.get(reverse("faq")).content)


def test_answers_are_shown_as_text_not_markup(client: Client, clinic):
    FaqEntry.objects.create(question="Tags?", answer="<b>bold</b>")
    assert b"&lt;b&gt;bold&lt;/b&gt;" in client.get(reverse("faq")).content


def test_the_starting_faq_is_a_usable_set_of_plain_questions():
    assert 8 <= len(DEFAULT_FAQ) <= 12
    questions = [question for question, _ in DEFAULT_FAQ]
    assert len(set(questions)) == len(questions)
    for question, answer in DEFAULT_FAQ:
        FaqEntry(question=question, answer=answer).full_clean()  # fits the fields the owner edits
        assert question.endswith("?") and len(answer) > 80


def test_the_starting_faq_renders_once_loaded(client: Client, clinic):
    for order, (question, answer) in enumerate(DEFAULT_FAQ):
        FaqEntry.objects.create(question=question, answer=answer, order=order)
    text = text_of(client.get(reverse("faq")).content)
    assert all(question in text for question, _ in DEFAULT_FAQ)
