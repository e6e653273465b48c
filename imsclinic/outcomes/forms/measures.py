"""Questionnaire forms built from an instrument's definition (portal and paper entry share them)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from imsclinic.outcomes.instruments import (
    PSFS_HIGH,
    PSFS_LOW,
    PSFS_MAX_ACTIVITIES,
    PSFS_MIN_ACTIVITIES,
    Definition,
    Item,
)
from imsclinic.outcomes.models import PSFS_ACTIVITY_MAX_LENGTH
from imsclinic.scheduling.models import Appointment

SKIP = "skip"  # the "leave blank" choice: lets someone undo a choice without scripts


def _answer(value: str) -> int | None:
    return None if value == SKIP else int(value)


def _choices(definition: Definition, item: Item) -> list[tuple[str, str]]:
    choices = []
    for offset, value in enumerate(definition.values):
        label = f"{value} — {item.options[offset]}" if item.options else str(value)
        choices.append((str(value), label))
    choices.append((SKIP, gettext("Leave blank")))
    return choices


def item_field_name(number: int) -> str:
    return f"item_{number}"


def activity_field_name(number: int) -> str:
    return f"activity_{number}"


class MeasureForm(forms.Form):
    """One questionnaire: a radio group per item, every item optional.

    A blank item is a missing item, scored by the instrument's missing-item rule. For the
    PSFS with ``name_activities`` the patient also names their three to five activities.
    """

    definition: Definition
    name_activities: bool

    def __init__(
        self, *args: Any, definition: Definition, name_activities: bool = False, **kwargs: Any
    ) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.definition = definition
        self.name_activities = name_activities
        if name_activities:
            for number in range(1, PSFS_MAX_ACTIVITIES + 1):
                self.fields[activity_field_name(number)] = forms.CharField(
                    label=_("Activity %(number)d: what it is") % {"number": number},
                    max_length=PSFS_ACTIVITY_MAX_LENGTH,
                    required=False,
                )
                self.fields[item_field_name(number)] = self._item_field(
                    Item(
                        title=_("Activity %(number)d") % {"number": number},
                        low=PSFS_LOW,
                        high=PSFS_HIGH,
                    )
                )
        else:
            for number, item in enumerate(definition.items, start=1):
                self.fields[item_field_name(number)] = self._item_field(item)

    def _item_field(self, item: Item) -> forms.TypedChoiceField:
        field = forms.TypedChoiceField(
            label=str(item.title),
            choices=_choices(self.definition, item),
            coerce=_answer,
            empty_value=None,
            required=False,
            widget=forms.RadioSelect,
        )
        field.item = item  # type: ignore[attr-defined]
        return field

    def item_numbers(self) -> list[int]:
        count = PSFS_MAX_ACTIVITIES if self.name_activities else len(self.definition.items)
        return list(range(1, count + 1))

    def rows(self) -> list[dict[str, Any]]:
        """Return each item with its bound field (and, when naming, its activity box)."""
        rows = []
        for number in self.item_numbers():
            bound = self[item_field_name(number)]
            rows.append(
                {
                    "number": number,
                    "field": bound,
                    "item": bound.field.item,  # type: ignore[attr-defined]
                    "activity": (
                        self[activity_field_name(number)] if self.name_activities else None
                    ),
                    "options": list(bound),
                    "skip": list(bound)[-1],
                }
            )
        return rows

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not self.name_activities:
            return data
        named = 0
        for number in self.item_numbers():
            name = (data.get(activity_field_name(number)) or "").strip()
            rating = data.get(item_field_name(number))
            if name:
                named += 1
            elif rating is not None:
                self.add_error(
                    activity_field_name(number),
                    gettext("Name the activity you rated, or clear its rating."),
                )
        if named < PSFS_MIN_ACTIVITIES:
            self.add_error(
                activity_field_name(named + 1),
                gettext("Name at least %(count)d activities.") % {"count": PSFS_MIN_ACTIVITIES},
            )
        return data

    def answers(self) -> list[int | None]:
        """Return the answers in item order (PSFS when naming: the named activities only)."""
        data = self.cleaned_data
        numbers = self.item_numbers()
        if self.name_activities:
            numbers = [n for n in numbers if (data.get(activity_field_name(n)) or "").strip()]
        return [data.get(item_field_name(n)) for n in numbers]

    def labels(self) -> list[str]:
        """Return the PSFS activity texts in item order; other instruments have none."""
        if self.definition.code != "PSFS":
            return []
        if self.name_activities:
            data = self.cleaned_data
            names = [(data.get(activity_field_name(n)) or "").strip() for n in self.item_numbers()]
            return [name for name in names if name]
        return [str(item.title) for item in self.definition.items]

    def answered_count(self) -> int:
        return sum(1 for value in self.answers() if value is not None)


class VisitChoiceField(forms.ModelChoiceField):
    """A choice of the patient's visits, named by their local date, time and service."""

    def label_from_instance(self, obj: Any) -> str:
        start = timezone.localtime(obj.start, obj.location.zone)
        return f"{date_format(start, 'j F Y H:i')} · {obj.service.name}"


class PaperDetailsForm(forms.Form):
    """What a paper form says besides the answers: its date and, optionally, the visit."""

    taken_on = forms.DateField(
        label=_("Date on the paper form"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    appointment = VisitChoiceField(
        label=_("Visit (optional)"),
        queryset=Appointment.objects.none(),
        required=False,
        empty_label=_("No particular visit"),
    )

    def __init__(
        self, *args: Any, visits: QuerySet[Appointment], today: dt.date, **kwargs: Any
    ) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.today = today
        field = self.fields["appointment"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = visits

    def clean_taken_on(self) -> dt.date:
        value: dt.date = self.cleaned_data["taken_on"]
        if value > self.today:
            raise forms.ValidationError(gettext("The date cannot be in the future."))
        return value
