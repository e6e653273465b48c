"""The intake questionnaire, version "intake-v2": its sections and questions, as plain data.

The answers a patient gives are one dict keyed by the question keys below (a missing key is
a question not answered). The safety app's screening rules read the same keys, so a key or
a choice value is never renamed: a new wording keeps the key, a new meaning is a new form
version. Each question says in which version it was first asked (`since`): an intake
submitted on an earlier version never asked the later questions, which is not the same as
answering "no" (`not_asked`). Pure: no ORM, no request.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from imsclinic.intake.body_map import REGIONS, region_label

# Every version of the form, oldest first; the last is the one asked now.
FORM_VERSIONS: tuple[str, ...] = ("intake-v1", "intake-v2")
FORM_VERSION = FORM_VERSIONS[-1]

Kind = Literal["text", "long_text", "choice", "multi"]
Choices = tuple[tuple[str, Promise], ...]

YES_NO: Choices = (("yes", _("Yes")), ("no", _("No")))
YES_NO_UNSURE: Choices = (("yes", _("Yes")), ("no", _("No")), ("unsure", _("Not sure")))
LIMBS: Choices = (
    ("left_arm", _("Left arm")),
    ("right_arm", _("Right arm")),
    ("left_leg", _("Left leg")),
    ("right_leg", _("Right leg")),
)


@dataclass(frozen=True)
class Question:
    key: str
    label: Promise
    kind: Kind
    choices: Choices = ()
    required: bool = True
    # (key, values): asked, kept and (if required) needed only when that answer is one of values
    when: tuple[str, tuple[str, ...]] | None = None
    help: Promise | str = ""
    why: Promise | str = ""
    max_length: int = 2000
    since: str = FORM_VERSIONS[0]  # the form version that first asked it

    @property
    def values(self) -> frozenset[str]:
        return frozenset(value for value, _label in self.choices)

    def applies(self, answers: Mapping[str, object]) -> bool:
        """Say whether this question is asked, given the other answers."""
        if self.when is None:
            return True
        key, values = self.when
        return answers.get(key) in values


@dataclass(frozen=True)
class Section:
    slug: str
    title: Promise
    intro: Promise | str
    questions: tuple[Question, ...]

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(q.key for q in self.questions)


SECTIONS: tuple[Section, ...] = (
    Section(
        "about",
        _("About you"),
        _("How we reach you, and who we call if something happens while you are with us."),
        (
            Question(
                "consent_capacity",
                _("Who is filling in this form?"),
                "choice",
                (
                    ("self", _("I am the patient and I make my own health decisions")),
                    ("guardian", _("A parent, guardian or substitute decision-maker")),
                    ("none", _("No one can give consent for the patient at the moment")),
                ),
                why=_(
                    "Treatment needs consent from the patient or the person who decides for them."
                ),
            ),
        ),
    ),
    Section(
        "reason",
        _("Why you are coming"),
        _("Tell us what brings you in and where it hurts."),
        (
            Question(
                "reason",
                _("What would you like help with?"),
                "long_text",
                help=_(
                    "A sentence or two is enough, for example: pain in my lower back when I sit."
                ),
            ),
            Question(
                "pain_areas",
                _("Where do you feel pain?"),
                "multi",
                tuple((code, label) for code, label, _view in REGIONS),
                required=False,
                help=_("Tick every area that hurts. Left and right mean your own left and right."),
            ),
            Question(
                "pain_started",
                _("When did it start?"),
                "choice",
                (
                    ("lt_6_weeks", _("Less than 6 weeks ago")),
                    ("6_weeks_to_3_months", _("Between 6 weeks and 3 months ago")),
                    ("gt_3_months", _("More than 3 months ago")),
                ),
            ),
        ),
    ),
    Section(
        "health",
        _("Your health"),
        _("Some conditions change how we treat you safely. Answer as best you can."),
        (
            Question(
                "history",
                _("Past injuries or operations"),
                "long_text",
                required=False,
                help=_("Leave empty if there are none."),
            ),
            Question(
                "conditions",
                _("Other health conditions"),
                "long_text",
                required=False,
                help=_(
                    "For example heart or lung conditions, arthritis, cancer now or in the past."
                ),
            ),
            Question(
                "diabetes",
                _("Do you have diabetes?"),
                "choice",
                YES_NO,
                why=_("Diabetes can slow healing and change feeling in the skin."),
            ),
            Question(
                "immune_compromise",
                _("Is your immune system weakened, by an illness or by medicine?"),
                "choice",
                YES_NO_UNSURE,
                help=_(
                    "For example chemotherapy, steroid tablets, or medicine after a transplant."
                ),
            ),
            Question(
                "vascular_disease",
                _("Do you have a condition of the blood vessels?"),
                "choice",
                YES_NO,
                help=_("For example poor circulation, varicose veins or a past blood clot."),
            ),
            Question("epilepsy", _("Do you have epilepsy or seizures?"), "choice", YES_NO),
            Question(
                "frailty",
                _("Do you need help with everyday tasks, or have you fallen in the past year?"),
                "choice",
                YES_NO,
            ),
            Question(
                "anxiety",
                _("Do you often feel very anxious, or have panic attacks?"),
                "choice",
                YES_NO,
            ),
            Question(
                "acute_illness",
                _("Are you unwell right now, for example with a fever or an infection?"),
                "choice",
                YES_NO,
                why=_(
                    "We do not needle anyone who is unwell on the day; we will find another time."
                ),
            ),
            Question(
                "infection_or_skin_lesion",
                _("Do you have an infection, an open wound or a skin problem where you feel pain?"),
                "choice",
                YES_NO,
            ),
            Question(
                "infection_details",
                _("If yes, where is it, and what is it?"),
                "long_text",
                when=("infection_or_skin_lesion", ("yes",)),
            ),
        ),
    ),
    Section(
        "chest",
        _("Your chest and lungs"),
        _(
            "Some treatment points lie over the ribs, close to the lungs. These answers tell "
            "your physiotherapist how to needle there safely."
        ),
        (
            Question(
                "lung_disease",
                _("Do you have a lung condition?"),
                "choice",
                YES_NO_UNSURE,
                help=_("For example COPD, emphysema, cystic fibrosis or asthma."),
                since="intake-v2",
            ),
            Question(
                "lung_disease_kinds",
                _("If yes, which lung condition?"),
                "multi",
                (
                    ("copd_emphysema", _("COPD or emphysema")),
                    ("cystic_fibrosis", _("Cystic fibrosis")),
                    ("other", _("Another lung condition")),
                ),
                when=("lung_disease", ("yes",)),
                since="intake-v2",
            ),
            Question(
                "lung_disease_details",
                _("Tell us about the lung condition, if you like"),
                "long_text",
                required=False,
                when=("lung_disease", ("yes",)),
                help=_("For example its name, and how it affects your breathing."),
                since="intake-v2",
            ),
            Question(
                "collapsed_lung",
                _("Have you ever had a collapsed lung (pneumothorax)?"),
                "choice",
                YES_NO_UNSURE,
                since="intake-v2",
            ),
            Question(
                "chest_surgery",
                _("Have you had an operation on your chest or lungs?"),
                "choice",
                YES_NO,
                help=_("For example lung surgery, or heart surgery through the breastbone."),
                since="intake-v2",
            ),
            Question(
                "breast_implants",
                _("Do you have breast implants?"),
                "choice",
                YES_NO,
                why=_("We never needle through or towards an implant."),
                since="intake-v2",
            ),
            Question(
                "short_of_breath",
                _("Are you short of breath at the moment, more than is usual for you?"),
                "choice",
                YES_NO,
                why=_("Breathlessness has to be understood before any needling near the chest."),
                since="intake-v2",
            ),
        ),
    ),
    Section(
        "medicines",
        _("Medicines and allergies"),
        _("Some medicines make bruising or bleeding more likely after needling."),
        (
            Question(
                "medications",
                _("Which medicines do you take?"),
                "long_text",
                required=False,
                help=_("Include vitamins and supplements. Leave empty if none."),
            ),
            Question(
                "anticoagulants",
                _("Do you take a blood thinner?"),
                "choice",
                YES_NO_UNSURE,
                help=_(
                    "For example warfarin, apixaban (Eliquis), rivaroxaban (Xarelto), "
                    "dabigatran (Pradaxa) or heparin injections."
                ),
                why=_("Blood thinners make bleeding and bruising more likely."),
            ),
            Question(
                "antiplatelets",
                _("Do you take medicine that stops blood cells sticking together?"),
                "choice",
                YES_NO_UNSURE,
                help=_(
                    "For example a daily aspirin, clopidogrel (Plavix) or ticagrelor (Brilinta)."
                ),
            ),
            Question(
                "bleeding_disorder",
                _("Do you bleed or bruise easily, or have a bleeding disorder (e.g. haemophilia)?"),
                "choice",
                YES_NO_UNSURE,
            ),
            Question(
                "allergy_metal",
                _("Are you allergic to metals, such as nickel?"),
                "choice",
                YES_NO,
                why=_("Needles are made of metal, so we check first."),
            ),
            Question("allergy_latex", _("Are you allergic to latex?"), "choice", YES_NO),
            Question(
                "allergies_other",
                _("Any other allergies?"),
                "long_text",
                required=False,
                help=_("Leave empty if none."),
            ),
        ),
    ),
    Section(
        "body",
        _("Pregnancy and lymph nodes"),
        _("These answers tell us where not to needle."),
        (
            Question(
                "pregnant",
                _("Are you pregnant, or could you be?"),
                "choice",
                (
                    ("yes", _("Yes")),
                    ("no", _("No")),
                    ("possibly", _("Possibly")),
                    ("not_applicable", _("Does not apply to me")),
                ),
            ),
            Question(
                "lymphoedema",
                _("Do you have lymphoedema (long-lasting swelling of an arm or leg)?"),
                "choice",
                YES_NO,
            ),
            Question(
                "lymphoedema_limbs",
                _("If yes, which arm or leg has the swelling (lymphoedema)?"),
                "multi",
                LIMBS,
                when=("lymphoedema", ("yes",)),
                why=_("We never needle a limb with lymphoedema."),
            ),
            Question(
                "lymph_node_removal",
                _("Have you had lymph nodes removed, for example during cancer surgery?"),
                "choice",
                YES_NO,
            ),
            Question(
                "lymph_node_removal_limbs",
                _(
                    "If you had lymph nodes removed: on which side? "
                    "Choose the arm or leg nearest to where they were."
                ),
                "multi",
                LIMBS,
                when=("lymph_node_removal", ("yes",)),
            ),
        ),
    ),
    Section(
        "needles",
        _("Needles"),
        _("IMS uses very fine needles. There are no wrong answers here."),
        (
            Question(
                "faint_with_needles",
                _("Have you ever fainted or felt faint with needles or injections?"),
                "choice",
                YES_NO,
                why=_("If so, we treat you lying down and keep a close eye on you."),
            ),
            Question(
                "needle_fear",
                _("How afraid of needles are you?"),
                "choice",
                (
                    ("none", _("Not at all")),
                    ("mild", _("A little")),
                    ("moderate", _("Quite afraid")),
                    ("severe", _("Very afraid: I avoid needles whenever I can")),
                ),
            ),
            Question(
                "willing_to_be_needled",
                _("Are you willing to try treatment with needles?"),
                "choice",
                YES_NO_UNSURE,
                help=_("You can change your mind at any time, even during a treatment."),
            ),
            Question(
                "previous_needling",
                _("Have you had IMS or dry needling before?"),
                "choice",
                (
                    ("none", _("No")),
                    ("ims", _("Yes, IMS")),
                    ("dry_needling", _("Yes, dry needling")),
                    ("both", _("Yes, both")),
                ),
            ),
            Question(
                "previous_needling_reactions",
                _("If so, did you have any reactions afterwards?"),
                "long_text",
                required=False,
                when=("previous_needling", ("ims", "dry_needling", "both")),
                help=_(
                    "For example soreness for a few days, bruising, or feeling faint. "
                    "Leave empty if none."
                ),
            ),
        ),
    ),
)

SECTION_SLUGS: tuple[str, ...] = tuple(s.slug for s in SECTIONS)
QUESTIONS: dict[str, Question] = {q.key: q for s in SECTIONS for q in s.questions}


def not_asked(form_version: str) -> tuple[str, ...]:
    """Return the keys of today's questions that a form of this version never asked.

    An unknown version is treated as the oldest, so nothing new is taken as answered.
    """
    try:
        asked_until = FORM_VERSIONS.index(form_version)
    except ValueError:
        asked_until = 0
    return tuple(key for key, q in QUESTIONS.items() if FORM_VERSIONS.index(q.since) > asked_until)


def section(slug: str) -> Section:
    """Return the section with this slug (KeyError for an unknown one)."""
    for candidate in SECTIONS:
        if candidate.slug == slug:
            return candidate
    raise KeyError(slug)


def section_of(key: str) -> str:
    """Return the slug of the section that asks this question."""
    for candidate in SECTIONS:
        if key in candidate.keys:
            return candidate.slug
    raise KeyError(key)


def display_value(question: Question, value: object) -> str:
    """Return an answer as the words the patient chose, for people to read."""
    labels = {code: str(label) for code, label in question.choices}
    if question.key == "pain_areas" and isinstance(value, list):
        return ", ".join(region_label(str(code)) for code in value)
    if isinstance(value, list):
        return ", ".join(labels.get(str(v), str(v)) for v in value)
    if question.kind == "choice":
        return labels.get(str(value), str(value))
    return str(value)


@dataclass(frozen=True)
class ShownAnswer:
    key: str
    label: str
    text: str  # empty when not answered
    required: bool
    asked: bool = True  # False: the form the patient answered did not ask it yet


@dataclass(frozen=True)
class ShownSection:
    slug: str
    title: str
    answers: list[ShownAnswer]


def readable(
    answers: Mapping[str, object], *, form_version: str = FORM_VERSION
) -> list[ShownSection]:
    """Return every asked question with its answer in words, section by section.

    Questions added after `form_version` are listed as not asked (never as "no").
    """
    new = set(not_asked(form_version))
    shown = []
    for part in SECTIONS:
        rows = [
            ShownAnswer(
                q.key,
                str(q.label),
                display_value(q, answers[q.key])
                if answers.get(q.key) not in (None, "", [])
                else "",
                q.required,
                q.key not in new,
            )
            for q in part.questions
            if q.applies(answers)
        ]
        shown.append(ShownSection(part.slug, str(part.title), rows))
    return shown
