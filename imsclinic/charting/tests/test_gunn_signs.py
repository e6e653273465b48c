"""Gunn's signs of neuropathy: the whole list on the form, the signed page and the PDF."""

from __future__ import annotations

import pytest
from django.urls import reverse

from imsclinic.accounts.models import User
from imsclinic.charting import services
from imsclinic.charting.models import GUNN_SIGN_GROUPS, GunnSign
from imsclinic.charting.pdf import chart_summary_html
from imsclinic.charting.selectors import chart_for
from imsclinic.charting.services import SignInput
from imsclinic.patients.models import Patient
from tests.factories import VANCOUVER
from tests.factories.charting import ensure_catalogue
from tests.factories.clients import signed_in

pytestmark = pytest.mark.django_db

# The signs shared/domain/ims-practice.md names that the first list lacked, in the
# product's words.
NEW_SIGNS = {
    "tender_paraspinals": "Tender paraspinal muscles at the level",
    "peau_dorange": "Orange-peel skin (peau d&#x27;orange)",
    "brittle_nails": "Brittle nails",
    "abnormal_skin": "Other skin changes (abnormal skin)",
}


@pytest.fixture(autouse=True)
def _catalogue(db: None) -> None:
    ensure_catalogue()


def _signed(patient: Patient, author: User, signs: list[SignInput]) -> int:
    draft = services.assessment_save_draft(
        patient=patient,
        actor=author,
        appointment=None,
        data={"plan_frequency": "weekly"},
        signs=signs,
        segments=[("L5", "left")],
    )
    return services.assessment_sign(assessment=draft, actor=author).pk


def test_every_sign_belongs_to_exactly_one_kind_on_the_form() -> None:
    grouped = [sign for _label, signs in GUNN_SIGN_GROUPS for sign in signs]
    assert sorted(grouped) == sorted(GunnSign.values)
    assert len(grouped) == len(set(grouped))


def test_the_assessment_form_asks_about_every_sign_the_examination_names(
    patient: Patient, physio: User
) -> None:
    html = signed_in(physio).get(reverse("assessment_new", args=[patient.pk])).content.decode()
    for code, words in NEW_SIGNS.items():
        assert words in html
        assert f'name="sign-{code}-finding"' in html
    assert "Vasomotor (cool skin)" in html
    assert "Enthesopathy or tendinitis at the muscle&#x27;s attachment" in html
    for kind in ("Sensory", "Autonomic", "Trophic", "Motor"):
        assert f'<th scope="colgroup" colspan="6">{kind}</th>' in html


def test_a_new_sign_recorded_present_shows_on_the_signed_assessment_the_chart_and_the_pdf(
    patient: Patient, physio: User
) -> None:
    assessment_id = _signed(
        patient,
        physio,
        [
            SignInput(sign="peau_dorange", finding="present", side="left", segment="L5"),
            SignInput(sign="tender_paraspinals", finding="present", side="left", segment="L5"),
            SignInput(sign="brittle_nails", finding="absent"),
        ],
    )
    client = signed_in(physio)
    detail = client.get(reverse("assessment_detail", args=[assessment_id])).content.decode()
    assert "Orange-peel skin (peau d&#x27;orange)" in detail
    assert "Brittle nails" in detail
    chart = client.get(reverse("patient_chart", args=[patient.pk])).content.decode()
    assert "Tender paraspinal muscles at the level (left L5)" in chart
    pdf_html = chart_summary_html(chart_for(patient), author=physio, zone=VANCOUVER)
    assert "Orange-peel skin (peau d&#x27;orange) (left, L5)" in pdf_html
    assert "Brittle nails" not in pdf_html  # the summary lists the signs found present


def test_an_assessment_signed_with_the_first_list_of_signs_still_reads_as_written(
    patient: Patient, physio: User
) -> None:
    assessment_id = _signed(
        patient,
        physio,
        [
            SignInput(sign="hair_loss", finding="present", side="right"),
            SignInput(sign="enthesopathy", finding="present", side="right"),
            SignInput(sign="trophedema_matchstick", finding="absent"),
        ],
    )
    html = (
        signed_in(physio).get(reverse("assessment_detail", args=[assessment_id])).content.decode()
    )
    assert "Localised hair loss" in html
    assert "Enthesopathy or tendinitis at the muscle&#x27;s attachment" in html
    assert "Trophedema: matchstick test" in html
    # A signed assessment lists only what was examined: no row for signs added since.
    assert "Orange-peel skin" not in html
