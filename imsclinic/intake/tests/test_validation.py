"""The questionnaire's own checks: allowed values, required and follow-up questions."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from imsclinic.intake.body_map import REGION_CODES, REGIONS, SHAPES
from imsclinic.intake.questions import QUESTIONS, SECTIONS, readable
from imsclinic.intake.validation import incomplete_sections, normalise, validate
from tests.factories.intake import complete_answers


def test_a_complete_set_of_answers_has_no_errors() -> None:
    assert validate(complete_answers(), complete=True) == {}


def test_every_required_question_left_out_is_named() -> None:
    answers = complete_answers()
    del answers["anticoagulants"]
    del answers["needle_fear"]
    errors = validate(answers, complete=True)
    assert set(errors) == {"anticoagulants", "needle_fear"}
    assert errors["anticoagulants"] == ["Choose an answer."]


def test_a_draft_may_be_incomplete_but_not_wrong() -> None:
    assert validate({"reason": "neck"}, complete=False) == {}
    errors = validate({"anticoagulants": "maybe", "colour": "blue"}, complete=False)
    assert errors["anticoagulants"] == ["Choose one of the answers offered."]
    assert "colour" in errors


def test_the_limbs_are_needed_only_when_the_patient_has_lymphoedema() -> None:
    assert validate(complete_answers(lymphoedema="no"), complete=True) == {}
    errors = validate(complete_answers(lymphoedema="yes"), complete=True)
    assert errors == {"lymphoedema_limbs": ["Choose at least one."]}
    fine = complete_answers(lymphoedema="yes", lymphoedema_limbs=["left_arm"])
    assert validate(fine, complete=True) == {}


def test_lymph_node_removal_and_infection_ask_their_follow_ups() -> None:
    errors = validate(
        complete_answers(lymph_node_removal="yes", infection_or_skin_lesion="yes"), complete=True
    )
    assert set(errors) == {"lymph_node_removal_limbs", "infection_details"}


def test_unknown_limbs_and_body_regions_are_refused() -> None:
    errors = validate(
        complete_answers(lymphoedema="yes", lymphoedema_limbs=["tail"], pain_areas=["elbow!"]),
        complete=True,
    )
    assert set(errors) == {"lymphoedema_limbs", "pain_areas"}
    assert "tail" in errors["lymphoedema_limbs"][0]


def test_wrong_types_are_refused_with_a_message() -> None:
    errors = validate({"reason": 5, "pain_areas": "lower_back", "diabetes": ["no"]}, complete=False)
    assert set(errors) == {"reason", "pain_areas", "diabetes"}


def test_very_long_text_is_refused() -> None:
    errors = validate({"medications": "x" * 2001}, complete=False)
    assert "2000" in errors["medications"][0]


def test_normalising_drops_blanks_and_follow_ups_that_no_longer_apply() -> None:
    answers = complete_answers(
        lymphoedema="no",
        lymphoedema_limbs=["left_arm"],
        reason="  sore neck  ",
        pain_areas=["lower_back", "head", "head"],
        history="",
    )
    cleaned = normalise(answers)
    assert "lymphoedema_limbs" not in cleaned
    assert "history" not in cleaned
    assert cleaned["reason"] == "sore neck"
    assert cleaned["pain_areas"] == ["head", "lower_back"]


def test_incomplete_sections_are_listed_in_form_order() -> None:
    answers = complete_answers()
    del answers["allergy_latex"]
    del answers["reason"]
    assert incomplete_sections(answers) == ["reason", "medicines"]
    assert incomplete_sections({}) == [part.slug for part in SECTIONS]


def test_answers_read_back_in_words() -> None:
    shown = {a.key: a.text for s in readable(complete_answers()) for a in s.answers}
    assert shown["pain_areas"] == "Lower back, Left buttock"
    assert shown["needle_fear"] == "A little"
    assert "lymphoedema_limbs" not in shown  # not asked when the answer was no


def test_every_body_region_has_a_shape_and_a_unique_code() -> None:
    codes = [code for code, _label, _view in REGIONS]
    assert len(codes) == len(set(codes)) == len(REGION_CODES)
    assert set(SHAPES) == REGION_CODES
    assert QUESTIONS["pain_areas"].values == REGION_CODES


def test_the_explicit_medicine_questions_offer_not_sure() -> None:
    for key in ("anticoagulants", "antiplatelets", "bleeding_disorder"):
        assert QUESTIONS[key].values == {"yes", "no", "unsure"}


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=6,
)
KEYS = st.sampled_from([*QUESTIONS, "unknown"])


@given(st.dictionaries(KEYS, JSON, max_size=8), st.booleans())
def test_any_json_gets_messages_never_a_crash(answers: dict, complete: bool) -> None:
    errors = validate(answers, complete=complete)
    assert all(isinstance(m, str) and m for messages in errors.values() for m in messages)
    if not errors and complete:
        # Whatever passes as complete stays complete once normalised for storage.
        assert validate(normalise(answers), complete=True) == {}
