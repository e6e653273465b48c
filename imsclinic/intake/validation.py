"""Check an intake-v1 answers dict: allowed values, required and conditional questions.

Pure: plain data in, plain data out. Used the same way by the portal pages, the staff's
paper entry, the API and the services, so every door says the same thing about the same
answers. Errors come back as {question key: [message, ...]}.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.utils.translation import gettext as _

from imsclinic.intake.questions import QUESTIONS, SECTIONS, Question

Errors = dict[str, list[str]]


def _is_empty(value: object) -> bool:
    return (
        value is None
        or value == ""
        or value == []
        or (isinstance(value, str) and not value.strip())
    )


def _value_errors(question: Question, value: object) -> list[str]:
    """Say what is wrong with one non-empty answer, whatever the others are."""
    if question.kind in ("text", "long_text"):
        if not isinstance(value, str):
            return [_("Type your answer as text.")]
        if len(value) > question.max_length:
            return [
                _("Keep this under %(limit)d characters (it has %(count)d).")
                % {"limit": question.max_length, "count": len(value)}
            ]
        return []
    if question.kind == "choice":
        if not isinstance(value, str) or value not in question.values:
            return [_("Choose one of the answers offered.")]
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        return [_("Send a list of the answers chosen.")]
    unknown = sorted({v for v in value if v not in question.values})
    if unknown:
        return [
            _("These are not among the answers offered: %(values)s.")
            % {"values": ", ".join(unknown)}
        ]
    return []


def _missing_message(question: Question) -> str:
    if question.kind == "multi":
        return _("Choose at least one.")
    if question.kind == "choice":
        return _("Choose an answer.")
    return _("Please answer this question.")


def validate(
    answers: Mapping[str, Any], *, complete: bool, keys: Iterable[str] | None = None
) -> Errors:
    """Return the errors in these answers; `complete` also asks for every required answer.

    `keys` limits the check to some questions (one section of the form); unknown keys in
    `answers` are always an error.
    """
    errors: Errors = {}
    for key in answers:
        if key not in QUESTIONS:
            errors[key] = [_("This form has no question %(key)s.") % {"key": key}]
    wanted = set(QUESTIONS) if keys is None else set(keys)
    for key in QUESTIONS:
        if key not in wanted:
            continue
        question = QUESTIONS[key]
        value = answers.get(key)
        if not _is_empty(value):
            problems = _value_errors(question, value)
            if problems:
                errors[key] = problems
        elif complete and question.required and question.applies(answers):
            errors[key] = [_missing_message(question)]
    return errors


def normalise(answers: Mapping[str, Any]) -> dict[str, Any]:
    """Return the answers as stored on submission: trimmed, no blanks, nothing not asked.

    A follow-up answer whose question no longer applies (the limbs of a lymphoedema the
    patient then said they do not have) is dropped, so a reader never meets a stale one.
    """
    cleaned: dict[str, Any] = {}
    for key, question in QUESTIONS.items():
        value = answers.get(key)
        if _is_empty(value) or not question.applies(answers):
            continue
        if isinstance(value, str):
            value = value.strip()
        elif isinstance(value, list):
            # Keep the form's order and drop repeats, so equal answers are equal lists.
            chosen = set(value)
            value = [code for code, _label in question.choices if code in chosen]
        cleaned[key] = value
    return cleaned


def incomplete_sections(answers: Mapping[str, Any]) -> list[str]:
    """Return the slugs of the sections that still have a required question unanswered."""
    errors = validate(answers, complete=True)
    return [part.slug for part in SECTIONS if any(key in errors for key in part.keys)]
