"""The screening rules: every rule raises its flag, and a near miss does not."""

from __future__ import annotations

import tomllib
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imsclinic.intake.questions import not_asked
from imsclinic.safety import screening
from imsclinic.safety.rule_strings import REASONS
from imsclinic.safety.screening import (
    ABSOLUTE,
    QUESTIONS,
    RELATIVE,
    RULES_PATH,
    Flag,
    RulesError,
    default_rules,
    describe_rule,
    parse_rules,
    screen,
)

ADULT = 40

# code -> (answers that raise it, age), (a near miss that must not raise it, age)
CASES: dict[str, tuple[tuple[dict[str, Any], int | None], tuple[dict[str, Any], int | None]]] = {
    "needle_phobia_severe": (
        ({"needle_fear": "severe"}, ADULT),
        ({"needle_fear": "moderate"}, ADULT),
    ),
    "unwilling": (
        ({"willing_to_be_needled": "no"}, ADULT),
        ({"willing_to_be_needled": "yes"}, ADULT),
    ),
    "no_consent_possible": (
        ({"consent_capacity": "none"}, ADULT),
        ({"consent_capacity": "self"}, ADULT),
    ),
    "acute_illness": (({"acute_illness": "yes"}, ADULT), ({"acute_illness": "no"}, ADULT)),
    "lymphoedema_limb": (
        ({"lymphoedema": "yes", "lymphoedema_limbs": ["left_arm"]}, ADULT),
        ({"lymphoedema": "no", "lymphoedema_limbs": []}, ADULT),
    ),
    "lymph_node_removal_limb": (
        ({"lymph_node_removal": "yes", "lymph_node_removal_limbs": ["right_arm"]}, ADULT),
        ({"lymph_node_removal": "no"}, ADULT),
    ),
    "infection_or_skin_lesion": (
        ({"infection_or_skin_lesion": "yes", "infection_details": "a graze on the knee"}, ADULT),
        ({"infection_or_skin_lesion": "no", "infection_details": "had one last year"}, ADULT),
    ),
    "anticoagulants": (({"anticoagulants": "yes"}, ADULT), ({"anticoagulants": "no"}, ADULT)),
    "antiplatelets": (({"antiplatelets": "unsure"}, ADULT), ({"antiplatelets": "no"}, ADULT)),
    "bleeding_disorder": (
        ({"bleeding_disorder": "yes"}, ADULT),
        ({"bleeding_disorder": "no"}, ADULT),
    ),
    "immune_compromise": (
        ({"immune_compromise": "yes"}, ADULT),
        ({"immune_compromise": "no"}, ADULT),
    ),
    "vascular_disease": (({"vascular_disease": "yes"}, ADULT), ({"vascular_disease": "no"}, ADULT)),
    "diabetes": (({"diabetes": "yes"}, ADULT), ({"diabetes": "no"}, ADULT)),
    "pregnancy": (({"pregnant": "yes"}, ADULT), ({"pregnant": "not_applicable"}, ADULT)),
    "minor": (({}, 17), ({}, 18)),
    "substitute_consent": (
        ({"consent_capacity": "guardian"}, ADULT),
        ({"consent_capacity": "guardian"}, 12),  # a minor: the "minor" flag says it
    ),
    "frailty": (({"frailty": "yes"}, 85), ({"frailty": "no"}, 85)),
    "epilepsy": (({"epilepsy": "yes"}, ADULT), ({"epilepsy": "no"}, ADULT)),
    "anxiety": (({"anxiety": "yes"}, ADULT), ({"anxiety": "no"}, ADULT)),
    "faints_with_needles": (
        ({"faint_with_needles": "yes"}, ADULT),
        ({"faint_with_needles": "no"}, ADULT),
    ),
    "needle_fear_moderate": (
        ({"needle_fear": "moderate"}, ADULT),
        ({"needle_fear": "mild"}, ADULT),
    ),
    "unsure_about_needling": (
        ({"willing_to_be_needled": "unsure"}, ADULT),
        ({"willing_to_be_needled": "yes"}, ADULT),
    ),
    "metal_allergy": (({"allergy_metal": "yes"}, ADULT), ({"allergy_metal": "no"}, ADULT)),
    "latex_allergy": (({"allergy_latex": "yes"}, ADULT), ({"allergy_latex": "no"}, ADULT)),
    "short_of_breath_now": (
        ({"short_of_breath": "yes"}, ADULT),
        ({"short_of_breath": "no"}, ADULT),
    ),
    "past_pneumothorax": (({"collapsed_lung": "unsure"}, ADULT), ({"collapsed_lung": "no"}, ADULT)),
    "copd_emphysema": (
        ({"lung_disease": "yes", "lung_disease_kinds": ["copd_emphysema"]}, ADULT),
        ({"lung_disease": "yes", "lung_disease_kinds": ["cystic_fibrosis"]}, ADULT),
    ),
    "cystic_fibrosis": (
        ({"lung_disease": "yes", "lung_disease_kinds": ["other", "cystic_fibrosis"]}, ADULT),
        ({"lung_disease": "no"}, ADULT),
    ),
    "lung_disease_other": (
        ({"lung_disease": "unsure"}, ADULT),
        ({"lung_disease": "yes", "lung_disease_kinds": ["copd_emphysema"]}, ADULT),
    ),
    "chest_surgery": (({"chest_surgery": "yes"}, ADULT), ({"chest_surgery": "no"}, ADULT)),
    "breast_implants": (({"breast_implants": "yes"}, ADULT), ({"breast_implants": "no"}, ADULT)),
}
# Rules about questions an earlier form never asked: (the form's unasked questions, a near miss).
UNASKED_CASES = {"chest_questions_not_asked": (not_asked("intake-v1"), not_asked("intake-v2"))}

# The rules that are a precaution for needling over the chest wall (lung risk).
CHEST_WALL_CODES = {
    "short_of_breath_now",
    "past_pneumothorax",
    "copd_emphysema",
    "cystic_fibrosis",
    "lung_disease_other",
    "chest_surgery",
    "breast_implants",
    "chest_questions_not_asked",
}

ABSOLUTE_CODES = {
    "needle_phobia_severe",
    "unwilling",
    "no_consent_possible",
    "acute_illness",
    "lymphoedema_limb",
    "lymph_node_removal_limb",
    "infection_or_skin_lesion",
}


def codes(answers: dict[str, Any], age: int | None = ADULT) -> set[str]:
    return {flag.code for flag in screen(answers, age=age)}


def codes_unasked(answers: dict[str, Any], unasked: tuple[str, ...]) -> set[str]:
    return {flag.code for flag in screen(answers, age=ADULT, not_asked=unasked)}


def test_every_rule_in_the_file_has_a_trigger_and_a_near_miss_here():
    assert {rule.code for rule in default_rules()} == set(CASES) | set(UNASKED_CASES)


@pytest.mark.parametrize("code", sorted(UNASKED_CASES))
def test_a_question_an_earlier_form_never_asked_is_flagged_not_read_as_no(code):
    unasked, near_miss = UNASKED_CASES[code]
    assert code in codes_unasked({}, unasked)
    assert code not in codes_unasked({}, near_miss)


@pytest.mark.parametrize("code", sorted(CASES))
def test_each_rule_raises_its_flag_when_its_answer_is_given(code):
    (answers, age), _ = CASES[code]
    assert code in codes(answers, age)


@pytest.mark.parametrize("code", sorted(CASES))
def test_each_rule_stays_quiet_for_a_near_miss(code):
    _, (answers, age) = CASES[code]
    assert code not in codes(answers, age)


@pytest.mark.parametrize("code", sorted(CASES))
def test_each_rule_has_the_kind_the_guideline_gives_it(code):
    (answers, age), _ = CASES[code]
    kinds = {flag.kind for flag in screen(answers, age=age) if flag.code == code}
    assert kinds == {ABSOLUTE if code in ABSOLUTE_CODES else RELATIVE}


def test_the_rules_file_loads_and_names_only_known_kinds_and_questions():
    with RULES_PATH.open("rb") as handle:
        raw = tomllib.load(handle)["rule"]
    rules = default_rules()
    assert len(rules) == len(raw)
    for rule in rules:
        assert rule.kind in (ABSOLUTE, RELATIVE)
        assert rule.reason.endswith(".")
        assert describe_rule(rule)  # every condition can be said in words

    def questions(condition: dict[str, Any]) -> set[str]:
        if "question" in condition:
            return {condition["question"]}
        if "not" in condition:
            return questions(condition["not"])
        parts = condition.get("any") or condition.get("all") or []
        return set().union(*(questions(part) for part in parts))

    named = set().union(*(questions(dict(rule.when)) for rule in rules))
    assert named <= set(QUESTIONS)


def test_every_reason_is_listed_for_the_translators():
    assert set(REASONS) == {rule.reason for rule in default_rules()}


def test_absolute_flags_come_before_relative_ones():
    flags = screen({"diabetes": "yes", "needle_fear": "severe", "epilepsy": "yes"}, age=ADULT)
    assert [flag.kind for flag in flags] == [ABSOLUTE, RELATIVE, RELATIVE]


def test_lymphoedema_raises_one_flag_per_limb_named_in_words():
    flags = screen(
        {"lymphoedema": "yes", "lymphoedema_limbs": ["left_arm", "right_leg", "left_arm"]},
        age=ADULT,
    )
    assert [(flag.code, flag.detail) for flag in flags] == [
        ("lymphoedema_limb", "left arm"),
        ("lymphoedema_limb", "right leg"),
    ]


def test_lymphoedema_without_a_limb_named_still_raises_a_flag():
    flags = screen({"lymphoedema": "yes"}, age=ADULT)
    assert [(flag.code, flag.kind, flag.detail) for flag in flags] == [
        ("lymphoedema_limb", ABSOLUTE, "")
    ]


def test_a_limb_named_without_the_yes_still_counts():
    assert codes({"lymph_node_removal": "no", "lymph_node_removal_limbs": ["left_arm"]}) == {
        "lymph_node_removal_limb"
    }


def test_lymph_node_removal_makes_that_limb_absolute():
    flags = screen(
        {"lymph_node_removal": "yes", "lymph_node_removal_limbs": ["left_arm"]}, age=ADULT
    )
    assert [(f.code, f.kind, f.detail) for f in flags] == [
        ("lymph_node_removal_limb", ABSOLUTE, "left arm")
    ]


def test_an_infection_flag_carries_what_the_patient_wrote():
    (flag,) = screen(
        {"infection_or_skin_lesion": "yes", "infection_details": "  cut on\nthe  left shin "},
        age=ADULT,
    )
    assert flag.detail == "cut on the left shin"


@pytest.mark.parametrize("answer", ["yes", "unsure"])
def test_a_bleeding_disorder_is_relative_whether_certain_or_unsure(answer):
    (flag,) = screen({"bleeding_disorder": answer}, age=ADULT)
    assert (flag.code, flag.kind) == ("bleeding_disorder", RELATIVE)


def test_possibly_pregnant_counts_as_pregnant():
    assert codes({"pregnant": "possibly"}) == {"pregnancy"}


def test_a_minor_with_a_guardian_gets_one_consent_flag_not_two():
    assert codes({"consent_capacity": "guardian"}, age=15) == {"minor"}


def test_an_unknown_age_raises_no_age_flag():
    assert codes({}, age=None) == set()


def test_the_oldest_patients_are_not_flagged_for_age_alone():
    assert codes({"frailty": "no"}, age=95) == set()


@pytest.mark.parametrize("code", sorted(CASES))
def test_the_lung_risk_rules_and_only_they_restrict_needling_over_the_chest_wall(code):
    (answers, age), _ = CASES[code]
    flag = next(flag for flag in screen(answers, age=age) if flag.code == code)
    assert flag.restricts_chest_wall == (code in CHEST_WALL_CODES)


def test_no_lung_risk_answer_is_an_absolute_contraindication_by_itself():
    absolute_rules = {rule.code for rule in default_rules() if rule.kind == ABSOLUTE}
    assert not CHEST_WALL_CODES & absolute_rules


def test_every_chest_wall_rule_names_its_source():
    for rule in default_rules():
        if rule.restricts:
            assert rule.source, rule.code


def test_an_intake_v1_raises_one_chest_wall_flag_for_the_questions_it_never_asked():
    old_form = {"needle_fear": "mild", "willing_to_be_needled": "yes", "consent_capacity": "self"}
    flags = screen(old_form, age=ADULT, not_asked=not_asked("intake-v1"))
    assert [flag.code for flag in flags] == ["chest_questions_not_asked"]
    assert flags[0].restricts_chest_wall


def test_a_past_collapsed_lung_and_copd_give_two_chest_wall_precautions():
    answers = {
        "collapsed_lung": "yes",
        "lung_disease": "yes",
        "lung_disease_kinds": ["copd_emphysema"],
        "chest_surgery": "no",
        "breast_implants": "no",
        "short_of_breath": "no",
    }
    flags = screening.chest_wall(screen(answers, age=ADULT))
    assert [flag.code for flag in flags] == ["past_pneumothorax", "copd_emphysema"]
    assert all(flag.kind == RELATIVE for flag in flags)


def test_a_flag_keeps_what_it_restricts_through_its_stored_form():
    (flag,) = screen({"breast_implants": "yes"}, age=ADULT)
    assert Flag.from_dict(flag.as_dict()) == flag
    assert flag.as_dict()["restricts"] == "chest_wall"


def test_a_rule_restricting_an_unknown_site_is_refused():
    with pytest.raises(RulesError, match="restricts"):
        parse_rules(
            {
                "rule": [
                    {
                        "code": "x",
                        "kind": "relative",
                        "reason": "R.",
                        "restricts": "elbow",
                        "when": {"question": "diabetes", "in": ["yes"]},
                    }
                ]
            }
        )


def test_a_typical_healthy_adult_raises_nothing():
    answers = {
        "anticoagulants": "no",
        "antiplatelets": "no",
        "bleeding_disorder": "no",
        "allergy_metal": "no",
        "allergy_latex": "no",
        "pregnant": "not_applicable",
        "lymphoedema": "no",
        "lymph_node_removal": "no",
        "infection_or_skin_lesion": "no",
        "diabetes": "no",
        "immune_compromise": "no",
        "vascular_disease": "no",
        "epilepsy": "no",
        "frailty": "no",
        "anxiety": "no",
        "acute_illness": "no",
        "faint_with_needles": "no",
        "needle_fear": "mild",
        "willing_to_be_needled": "yes",
        "consent_capacity": "self",
    }
    assert screen(answers, age=ADULT) == []


@pytest.mark.parametrize(
    ("data", "complaint"),
    [
        ({"rule": []}, "no [[rule]]"),
        (
            {"rule": [{"code": "x", "kind": "maybe", "reason": "R.", "when": {"age_below": 5}}]},
            "kind",
        ),
        (
            {
                "rule": [
                    {"code": "x", "kind": "relative", "reason": "R.", "when": {"question": "shoe"}}
                ]
            },
            "not a condition",
        ),
        (
            {
                "rule": [
                    {
                        "code": "x",
                        "kind": "relative",
                        "reason": "R.",
                        "when": {"question": "shoe_size", "in": ["9"]},
                    }
                ]
            },
            "unknown question",
        ),
        (
            {
                "rule": [
                    {
                        "code": "x",
                        "kind": "relative",
                        "reason": "R.",
                        "when": {"question": "diabetes", "in": ["sometimes"]},
                    }
                ]
            },
            "no answer",
        ),
        (
            {
                "rule": [
                    {"code": "x", "kind": "relative", "reason": "R.", "when": {"age_below": 5}},
                    {"code": "x", "kind": "relative", "reason": "R.", "when": {"age_below": 5}},
                ]
            },
            "its own code",
        ),
        (
            {
                "rule": [
                    {
                        "code": "x",
                        "kind": "relative",
                        "reason": "R.",
                        "when": {"question": "diabetes", "nonempty": True},
                    }
                ]
            },
            "list questions",
        ),
    ],
)
def test_a_mistake_in_the_rules_file_is_refused_with_a_reason(data, complaint):
    with pytest.raises(RulesError, match=complaint.replace("[", r"\[").replace("]", r"\]")):
        parse_rules(data)


# ---- Properties --------------------------------------------------------------------------

answer_values = st.one_of(
    st.sampled_from(
        [
            "yes",
            "no",
            "unsure",
            "possibly",
            "not_applicable",
            "none",
            "mild",
            "moderate",
            "severe",
            "self",
            "guardian",
        ]
    ),
    st.lists(st.sampled_from([*screening.LIMBS, "nose"]), max_size=6),
    st.text(max_size=30),
    st.none(),
    st.integers(),
)
answers_strategy = st.dictionaries(st.sampled_from(sorted(QUESTIONS)), answer_values)
ages = st.one_of(st.none(), st.integers(min_value=0, max_value=110))
AGE_CODES = {"minor"}


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(age=ages)
def test_no_answers_raise_no_flags_but_the_age_ones(age):
    assert codes({}, age) <= AGE_CODES


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(answers=answers_strategy, age=ages)
def test_screening_is_deterministic_and_never_repeats_a_flag(answers, age):
    first = screen(answers, age=age)
    assert first == screen(dict(answers), age=age)
    keys = [(flag.code, flag.detail) for flag in first]
    assert len(keys) == len(set(keys))
    kinds = [flag.kind for flag in first]
    assert kinds == sorted(kinds, key=lambda kind: kind != ABSOLUTE)
