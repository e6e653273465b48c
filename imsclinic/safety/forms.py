"""The clearance decision form and the adverse event form."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.utils.translation import gettext_lazy as _

from imsclinic.safety.models import (
    AE_TEXT_MAX,
    REASON_MAX,
    SEVERITY_ORDER,
    SITE_MAX,
    AdverseEventType,
    Decision,
    Severity,
)


class ClearanceForm(forms.Form):
    intake = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**63 - 1)
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=Decision.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose a decision.")},
    )
    reason = forms.CharField(
        label=_("Reason, or the precautions to take"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=REASON_MAX,
        help_text=_(
            "Say why. For a clearance with precautions, say what to do differently "
            "(for example: no needling of the left arm; treat lying down)."
        ),
        error_messages={"required": _("Write the reason for the decision.")},
    )


class AdverseEventForm(forms.Form):
    """What a clinician records about an adverse event; the onset is clinic wall-clock time."""

    session = forms.TypedChoiceField(
        label=_("Needling session it followed"),
        required=False,
        coerce=int,
        empty_value=None,
        help_text=_("Leave empty if it did not follow a recorded session."),
    )
    event_type = forms.ChoiceField(
        label=_("Type"),
        choices=[("", _("Choose…")), *AdverseEventType.choices],
        error_messages={"required": _("Choose the type of event.")},
    )
    severity = forms.ChoiceField(
        label=_("Severity"),
        choices=Severity.choices,
        widget=forms.RadioSelect,
        help_text=_(
            "Physiotherapy Alberta's classes: mild needs no treatment; significant needed "
            "medical intervention; serious led to hospital admission or death. Significant and "
            "serious events alert the clinic owner at once."
        ),
        error_messages={"required": _("Choose how severe it was.")},
    )
    onset = forms.DateTimeField(
        label=_("Onset"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_("When it started, clinic time."),
        error_messages={
            "required": _("Enter when it started."),
            "invalid": _("Enter a date and time, e.g. 2026-03-04 14:30."),
        },
    )
    muscle = forms.TypedChoiceField(
        label=_("Muscle"),
        required=False,
        coerce=int,
        empty_value=None,
        # static/js/option-filter.js puts a search box before the list; the list works alone.
        widget=forms.Select(
            attrs={
                "data-option-filter": _("Find a muscle"),
                "data-option-filter-none": _(
                    "No muscle matches: clear the search to see them all."
                ),
            }
        ),
    )
    site = forms.CharField(
        label=_("Site"),
        required=False,
        max_length=SITE_MAX,
        help_text=_("Where on the body, if no single muscle names it."),
    )
    description = forms.CharField(
        label=_("What happened"),
        required=False,
        max_length=AE_TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Needed when the type is “other”."),
    )
    action_taken = forms.CharField(
        label=_("Action taken"),
        max_length=AE_TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Say what was done (write “none needed” if nothing was).")},
    )
    outcome = forms.CharField(
        label=_("Outcome"),
        required=False,
        max_length=AE_TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("As known now, e.g. resolved within two days."),
    )

    def __init__(
        self,
        *args: Any,
        sessions: list[tuple[int, str]],
        muscles: list[tuple[str, list[tuple[int, str]]]],
        zone: ZoneInfo,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.zone = zone
        self.fields["session"].choices = [("", _("None")), *sessions]  # type: ignore[attr-defined]
        self.fields["muscle"].choices = [("", _("Not known or not one muscle")), *muscles]  # type: ignore[attr-defined]

    def clean_onset(self) -> dt.datetime:
        value: dt.datetime = self.cleaned_data["onset"]
        # The browser sends wall-clock time with no zone: it is the clinic's.
        return value.replace(tzinfo=None).replace(tzinfo=self.zone)


class AdverseEventUpdateForm(forms.Form):
    """A follow-up on a recorded event: how it went since, and a worse severity if it got worse."""

    outcome = forms.CharField(
        label=_("How it has gone since"),
        max_length=AE_TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("E.g. resolved after three days; the GP prescribed antibiotics."),
        error_messages={"required": _("Write how it has gone since.")},
    )
    severity = forms.ChoiceField(
        label=_("Severity"),
        required=False,
        initial="",
        widget=forms.RadioSelect,
        help_text=_(
            "Only if it got worse. Severity never goes down: the event stays classed by the "
            "worst it became. Significant and serious events alert the clinic owner."
        ),
        error_messages={
            "invalid_choice": _("Severity only goes up: choose a worse one or leave it unchanged.")
        },
    )

    def __init__(self, *args: Any, current: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        names = dict(Severity.choices)
        higher = (
            SEVERITY_ORDER[SEVERITY_ORDER.index(Severity(current)) + 1 :]
            if current in Severity.values
            else ()
        )
        if higher:
            self.fields["severity"].choices = [  # type: ignore[attr-defined]
                ("", _("Unchanged: %(severity)s") % {"severity": names[current]}),
                *((value.value, names[value]) for value in higher),
            ]
        else:
            del self.fields["severity"]


# The days a report may cover: a period or a day outside these is refused with a message.
REPORT_FIRST_DAY = dt.date(2000, 1, 1)
REPORT_LAST_DAY = dt.date(2100, 12, 31)
REPORT_YEARS_MAX = 10


def report_day_message() -> str:
    return str(
        _("Choose a day from %(first)s to %(last)s.")
        % {"first": REPORT_FIRST_DAY.isoformat(), "last": REPORT_LAST_DAY.isoformat()}
    )


def _years_after(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


class ReportPeriodForm(forms.Form):
    since = forms.DateField(
        label=_("From"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": _("Enter a date, e.g. 2026-01-01.")},
    )
    until = forms.DateField(
        label=_("Until"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": _("Enter a date, e.g. 2026-12-31.")},
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for name in ("since", "until"):
            day = data.get(name)
            if day is not None and not REPORT_FIRST_DAY <= day <= REPORT_LAST_DAY:
                self.add_error(name, report_day_message())
                data[name] = None
        since, until = data.get("since"), data.get("until")
        if since and until and until < since:
            self.add_error("until", _("The end of the period must be on or after its start."))
        elif since and until and until >= _years_after(since, REPORT_YEARS_MAX):
            self.add_error(
                "until",
                _("Choose a period of at most %(years)d years.") % {"years": REPORT_YEARS_MAX},
            )
        return data
