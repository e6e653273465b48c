"""Turn intake answers into screening flags by the rules in screening_rules.toml.

Pure: plain answers (the intake answers dict) and an age in, `Flag`s out; no database, no
request. The rules are data a clinician can review; this module only knows how to read a
condition. A flag's `reason` is the rule's English sentence, kept as written so a stored
snapshot says exactly what was shown; pages translate it when they display it
(`reason_display`), and `rule_strings.py` lists every reason for the translators.

A rule may also say which needling sites its flag restricts (`restricts = "chest_wall"`):
charting asks for a recorded technique when such a site is needled for a flagged patient.
A question the patient was never asked (an intake from an earlier form) is never read as
"no": the caller says which questions the form did not ask (`not_asked`), and a rule can name
that case with `asked = false`.
"""

from __future__ import annotations

import tomllib
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

RULES_PATH = Path(__file__).with_name("screening_rules.toml")

ABSOLUTE: Literal["absolute"] = "absolute"
RELATIVE: Literal["relative"] = "relative"
KINDS = (ABSOLUTE, RELATIVE)
Kind = Literal["absolute", "relative"]

YES_NO = ("yes", "no")
YES_NO_UNSURE = ("yes", "no", "unsure")
LIMBS = ("left_arm", "right_arm", "left_leg", "right_leg")
LUNG_KINDS = ("copd_emphysema", "cystic_fibrosis", "other")

# The sites a rule may restrict; a flag of such a rule is a precaution for needling there.
CHEST_WALL = "chest_wall"
SITES = (CHEST_WALL,)


@dataclass(frozen=True)
class Question:
    """One intake question a rule may read."""

    label: Any  # a lazy translation: shown in the rule's words
    values: tuple[str, ...] | None = None  # None: free text
    is_list: bool = False  # a list of `values`


# The intake questions that screening reads (the form has more: reason, history...).
QUESTIONS: dict[str, Question] = {
    "anticoagulants": Question(gettext_lazy("takes anticoagulants"), YES_NO_UNSURE),
    "antiplatelets": Question(gettext_lazy("takes antiplatelet medication"), YES_NO_UNSURE),
    "bleeding_disorder": Question(gettext_lazy("has a bleeding disorder"), YES_NO_UNSURE),
    "allergy_metal": Question(gettext_lazy("allergic to metal"), YES_NO),
    "allergy_latex": Question(gettext_lazy("allergic to latex"), YES_NO),
    "pregnant": Question(gettext_lazy("pregnant"), ("yes", "no", "possibly", "not_applicable")),
    "lymphoedema": Question(gettext_lazy("has lymphoedema"), YES_NO),
    "lymphoedema_limbs": Question(gettext_lazy("limbs with lymphoedema"), LIMBS, is_list=True),
    "lymph_node_removal": Question(gettext_lazy("has had lymph nodes removed"), YES_NO),
    "lymph_node_removal_limbs": Question(
        gettext_lazy("limbs whose lymph nodes were removed"), LIMBS, is_list=True
    ),
    "infection_or_skin_lesion": Question(
        gettext_lazy("has an infection, wound or skin lesion"), YES_NO
    ),
    "infection_details": Question(gettext_lazy("details of the infection or lesion")),
    "diabetes": Question(gettext_lazy("has diabetes"), YES_NO),
    "immune_compromise": Question(gettext_lazy("immune system weakened"), YES_NO_UNSURE),
    "vascular_disease": Question(gettext_lazy("has vascular disease"), YES_NO),
    "epilepsy": Question(gettext_lazy("has epilepsy"), YES_NO),
    "frailty": Question(gettext_lazy("frail"), YES_NO),
    "anxiety": Question(gettext_lazy("has anxiety"), YES_NO),
    "acute_illness": Question(gettext_lazy("unwell now"), YES_NO),
    "faint_with_needles": Question(gettext_lazy("has fainted with needles"), YES_NO),
    "needle_fear": Question(
        gettext_lazy("fear of needles"), ("none", "mild", "moderate", "severe")
    ),
    "willing_to_be_needled": Question(gettext_lazy("willing to be needled"), YES_NO_UNSURE),
    "consent_capacity": Question(
        gettext_lazy("who can give consent"), ("self", "guardian", "none")
    ),
    # Asked since intake-v2 (the chest and lungs).
    "lung_disease": Question(gettext_lazy("has a lung condition"), YES_NO_UNSURE),
    "lung_disease_kinds": Question(gettext_lazy("lung conditions named"), LUNG_KINDS, is_list=True),
    "lung_disease_details": Question(gettext_lazy("details of the lung condition")),
    "collapsed_lung": Question(gettext_lazy("has had a collapsed lung"), YES_NO_UNSURE),
    "chest_surgery": Question(gettext_lazy("has had chest or lung surgery"), YES_NO),
    "breast_implants": Question(gettext_lazy("has breast implants"), YES_NO),
    "short_of_breath": Question(gettext_lazy("short of breath now"), YES_NO),
}

# How answer codes read in a flag's detail and in the rules' words.
VALUE_LABELS: dict[str, Any] = {
    "left_arm": gettext_lazy("left arm"),
    "right_arm": gettext_lazy("right arm"),
    "left_leg": gettext_lazy("left leg"),
    "right_leg": gettext_lazy("right leg"),
    "yes": gettext_lazy("yes"),
    "no": gettext_lazy("no"),
    "unsure": gettext_lazy("unsure"),
    "possibly": gettext_lazy("possibly"),
    "not_applicable": gettext_lazy("not applicable"),
    "none": gettext_lazy("none"),
    "mild": gettext_lazy("mild"),
    "moderate": gettext_lazy("moderate"),
    "severe": gettext_lazy("severe"),
    "self": gettext_lazy("the patient"),
    "guardian": gettext_lazy("a parent, guardian or substitute decision-maker"),
    "copd_emphysema": gettext_lazy("COPD or emphysema"),
    "cystic_fibrosis": gettext_lazy("cystic fibrosis"),
    "other": gettext_lazy("another lung condition"),
}

# Plain English for a flag's detail when it names a limb (kept untranslated in the record).
LIMB_WORDS = {
    "left_arm": "left arm",
    "right_arm": "right arm",
    "left_leg": "left leg",
    "right_leg": "right leg",
}

# A free-text detail longer than this is cut (the full answer stays in the intake).
DETAIL_LIMIT = 200


class RulesError(ValueError):
    """The rules file says something this module cannot apply."""


@dataclass(frozen=True)
class Rule:
    code: str
    kind: Kind
    reason: str
    when: Mapping[str, Any]
    per_item: str | None = None
    detail: str | None = None
    restricts: str = ""  # a site in SITES whose needling the flag restricts
    source: str = ""  # where the rule comes from, for the clinicians who review it


@dataclass(frozen=True)
class Flag:
    """One reason to stop (absolute) or to review (relative) before needling."""

    code: str
    kind: Kind
    reason: str  # the rule's English sentence, as stored
    detail: str = ""  # e.g. "left arm", or what the patient wrote about an infection
    restricts: str = ""  # e.g. "chest_wall": a precaution for needling there

    @property
    def is_absolute(self) -> bool:
        return self.kind == ABSOLUTE

    @property
    def restricts_chest_wall(self) -> bool:
        return self.restricts == CHEST_WALL

    @property
    def reason_display(self) -> str:
        """Return the reason in the active language (the English msgid is the rule's)."""
        return _(self.reason)

    def as_dict(self) -> dict[str, str]:
        data = {"code": self.code, "kind": self.kind, "reason": self.reason, "detail": self.detail}
        if self.restricts:
            data["restricts"] = self.restricts
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Flag:
        kind: Kind = ABSOLUTE if data.get("kind") == ABSOLUTE else RELATIVE
        return cls(
            code=str(data.get("code", "")),
            kind=kind,
            reason=str(data.get("reason", "")),
            detail=str(data.get("detail", "")),
            restricts=str(data.get("restricts", "")),
        )


# ---- Loading and checking the rules --------------------------------------------------------

_CONDITION_KEYS = {
    frozenset({"question", "in"}),
    frozenset({"question", "nonempty"}),
    frozenset({"question", "includes"}),
    frozenset({"question", "asked"}),
    frozenset({"age_below"}),
    frozenset({"age_at_least"}),
    frozenset({"any"}),
    frozenset({"all"}),
    frozenset({"not"}),
}


def _check_condition(condition: Any, where: str) -> None:
    if not isinstance(condition, Mapping) or frozenset(condition) not in _CONDITION_KEYS:
        raise RulesError(f"{where}: not a condition this module knows: {condition!r}")
    if "question" in condition:
        name = condition["question"]
        question = QUESTIONS.get(name)
        if question is None:
            raise RulesError(f"{where}: unknown question {name!r}")
        if "in" in condition:
            values = condition["in"]
            if not isinstance(values, list) or not values:
                raise RulesError(f"{where}: 'in' needs a non-empty list of answers")
            if question.values is not None and not set(values) <= set(question.values):
                unknown = sorted(set(values) - set(question.values))
                raise RulesError(f"{where}: {name} has no answer {unknown}")
        elif "includes" in condition:
            values = condition["includes"]
            if not question.is_list or not isinstance(values, list) or not values:
                raise RulesError(f"{where}: 'includes' needs a list question and a list")
            if question.values is not None and not set(values) <= set(question.values):
                unknown = sorted(set(values) - set(question.values))
                raise RulesError(f"{where}: {name} has no answer {unknown}")
        elif "asked" in condition:
            if condition["asked"] is not False:
                raise RulesError(f"{where}: only 'asked = false' is a condition")
        elif condition["nonempty"] is not True or not question.is_list:
            raise RulesError(f"{where}: 'nonempty = true' applies to list questions only")
    elif "age_below" in condition or "age_at_least" in condition:
        (limit,) = condition.values()
        if not isinstance(limit, int) or isinstance(limit, bool) or not 0 < limit < 150:
            raise RulesError(f"{where}: an age limit is a whole number of years")
    elif "not" in condition:
        _check_condition(condition["not"], where)
    else:
        (parts,) = condition.values()
        if not isinstance(parts, list) or not parts:
            raise RulesError(f"{where}: 'any' and 'all' need a non-empty list of conditions")
        for part in parts:
            _check_condition(part, where)


def parse_rules(data: Mapping[str, Any]) -> tuple[Rule, ...]:
    """Check parsed TOML and return its rules, absolute first, each in file order."""
    raw = data.get("rule")
    if not isinstance(raw, list) or not raw:
        raise RulesError("the rules file has no [[rule]] entries")
    rules: list[Rule] = []
    seen: set[str] = set()
    for index, entry in enumerate(raw, start=1):
        code = entry.get("code")
        where = f"rule {index} ({code})"
        if not isinstance(code, str) or not code or code in seen:
            raise RulesError(f"{where}: each rule needs its own code")
        seen.add(code)
        extra = set(entry) - {
            "code",
            "kind",
            "reason",
            "when",
            "per_item",
            "detail",
            "restricts",
            "source",
        }
        if extra:
            raise RulesError(f"{where}: unknown keys {sorted(extra)}")
        if entry.get("kind") not in KINDS:
            raise RulesError(f"{where}: kind must be one of {KINDS}")
        reason = entry.get("reason")
        if not isinstance(reason, str) or not reason.strip():
            raise RulesError(f"{where}: a reason sentence is required")
        _check_condition(entry.get("when"), where)
        per_item = entry.get("per_item")
        if per_item is not None and not getattr(QUESTIONS.get(per_item), "is_list", False):
            raise RulesError(f"{where}: per_item must name a list question")
        detail = entry.get("detail")
        if detail is not None and (detail not in QUESTIONS or QUESTIONS[detail].values):
            raise RulesError(f"{where}: detail must name a free-text question")
        restricts = entry.get("restricts", "")
        if restricts not in ("", *SITES):
            raise RulesError(f"{where}: restricts must be one of {SITES}")
        source = entry.get("source", "")
        if not isinstance(source, str):
            raise RulesError(f"{where}: a source is a sentence")
        rules.append(
            Rule(
                code=code,
                kind=entry["kind"],
                reason=reason.strip(),
                when=entry["when"],
                per_item=per_item,
                detail=detail,
                restricts=restricts,
                source=source.strip(),
            )
        )
    return tuple(sorted(rules, key=lambda rule: rule.kind != ABSOLUTE))


def load_rules(path: Path = RULES_PATH) -> tuple[Rule, ...]:
    """Read and check a rules file."""
    with path.open("rb") as handle:
        return parse_rules(tomllib.load(handle))


@lru_cache(maxsize=1)
def default_rules() -> tuple[Rule, ...]:
    """Return the clinic's rules (read once per process)."""
    return load_rules()


# ---- Applying them -------------------------------------------------------------------------


def _as_list(value: Any) -> list[Any]:
    if value is None or value == "":
        return []
    if isinstance(value, list | tuple):
        return list(value)
    return [value]


def matches(
    condition: Mapping[str, Any],
    answers: Mapping[str, Any],
    age: int | None,
    not_asked: Collection[str] = (),
) -> bool:
    """Say whether the answers (and the age, when known) meet a condition.

    `not_asked` names the questions the patient's form did not ask.
    """
    if "question" in condition:
        value = answers.get(condition["question"])
        if "in" in condition:
            return not isinstance(value, list | dict) and value in condition["in"]
        if "includes" in condition:
            return bool(set(map(str, _as_list(value))) & set(condition["includes"]))
        if "asked" in condition:
            return condition["question"] in not_asked
        return bool(_as_list(value))
    if "age_below" in condition:
        return age is not None and age < condition["age_below"]
    if "age_at_least" in condition:
        return age is not None and age >= condition["age_at_least"]
    if "not" in condition:
        return not matches(condition["not"], answers, age, not_asked)
    if "any" in condition:
        return any(matches(part, answers, age, not_asked) for part in condition["any"])
    return all(matches(part, answers, age, not_asked) for part in condition["all"])


def _details(rule: Rule, answers: Mapping[str, Any]) -> list[str]:
    if rule.per_item is not None:
        items: list[str] = []
        for item in _as_list(answers.get(rule.per_item)):
            words = LIMB_WORDS.get(item, str(item)) if isinstance(item, str) else str(item)
            if words not in items:
                items.append(words)
        return items or [""]
    if rule.detail is not None:
        text = answers.get(rule.detail)
        text = " ".join(text.split()) if isinstance(text, str) else ""
        return [text[:DETAIL_LIMIT]]
    return [""]


def screen(
    answers: Mapping[str, Any],
    *,
    age: int | None,
    rules: Sequence[Rule] | None = None,
    not_asked: Collection[str] = (),
) -> list[Flag]:
    """Return the flags these answers raise, absolute first, in the rules' order.

    `not_asked` names the questions the form the patient answered did not ask (an intake from
    an earlier version): their rules stay quiet, and the `asked = false` rules speak instead.
    """
    flags: list[Flag] = []
    for rule in default_rules() if rules is None else rules:
        if matches(rule.when, answers, age, not_asked):
            flags.extend(
                Flag(
                    code=rule.code,
                    kind=rule.kind,
                    reason=rule.reason,
                    detail=detail,
                    restricts=rule.restricts,
                )
                for detail in _details(rule, answers)
            )
    return flags


def chest_wall(flags: Iterable[Flag]) -> list[Flag]:
    """Return the flags that are a precaution for needling over the chest wall (lung risk)."""
    return [flag for flag in flags if flag.restricts_chest_wall]


def absolute(flags: Iterable[Flag]) -> list[Flag]:
    return [flag for flag in flags if flag.kind == ABSOLUTE]


def relative(flags: Iterable[Flag]) -> list[Flag]:
    return [flag for flag in flags if flag.kind == RELATIVE]


# ---- Saying a condition in words (for the rules page) --------------------------------------


def _value_words(value: str) -> str:
    return str(VALUE_LABELS.get(value, value))


def describe(condition: Mapping[str, Any]) -> str:
    """Say a condition in plain words for the clinicians who review the rules."""
    if "question" in condition:
        label = str(QUESTIONS[condition["question"]].label)
        if "in" in condition:
            values = [_value_words(v) for v in condition["in"]]
            return _("%(question)s: %(answers)s") % {
                "question": label,
                "answers": _(" or ").join(values),
            }
        if "includes" in condition:
            values = [_value_words(v) for v in condition["includes"]]
            return _("%(question)s: include %(answers)s") % {
                "question": label,
                "answers": _(" or ").join(values),
            }
        if "asked" in condition:
            return _("%(question)s: not asked (an earlier form)") % {"question": label}
        return _("%(question)s: at least one named") % {"question": label}
    if "age_below" in condition:
        return _("younger than %(age)d") % {"age": condition["age_below"]}
    if "age_at_least" in condition:
        return _("aged %(age)d or over") % {"age": condition["age_at_least"]}
    if "not" in condition:
        return _("not (%(condition)s)") % {"condition": describe(condition["not"])}
    if "any" in condition:
        return _("any of: %(parts)s") % {
            "parts": "; ".join(describe(part) for part in condition["any"])
        }
    return _("all of: %(parts)s") % {
        "parts": "; ".join(describe(part) for part in condition["all"])
    }


def describe_rule(rule: Rule) -> str:
    """Say when a rule raises its flag, including how it names details."""
    words = describe(rule.when)
    if rule.per_item is not None:
        words = _("%(condition)s (one flag for each one named)") % {"condition": words}
    return words
