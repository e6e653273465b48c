"""Scheduling forms: a time chosen in the booking picker, the calendar's day, cancelling a visit."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from imsclinic.clinic.models import Location, Practitioner, Service
from imsclinic.scheduling.models import CancelledBy
from imsclinic.scheduling.picker import parse_start

# The first and last day the calendar pages show.
FIRST_DAY = dt.date(2000, 1, 1)
LAST_DAY = dt.date(2199, 12, 31)

INVALID_CHOICE = gettext_lazy("That time could not be read. Please choose a time from the list.")


class SlotForm(forms.Form):
    """A chosen time, as the picker's links and the confirm page's hidden fields carry it."""

    service = forms.SlugField(max_length=50)
    practitioner = forms.IntegerField(min_value=1, max_value=2**63 - 1)
    location = forms.IntegerField(min_value=1, max_value=2**63 - 1)
    start = forms.CharField(max_length=64)
    any = forms.BooleanField(required=False)
    sessions = forms.IntegerField(required=False, min_value=1, max_value=52)

    def __init__(
        self,
        data: Any,
        *,
        services: QuerySet[Service],
        now: dt.datetime | None = None,
        weeks: range | None = None,
    ) -> None:
        super().__init__(data)
        self.services = services
        self.now = now or timezone.now()
        self.weeks = weeks

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.errors:
            raise forms.ValidationError(INVALID_CHOICE)
        service = self.services.filter(slug=cleaned["service"]).first()
        location = Location.objects.filter(pk=cleaned["location"], is_active=True).first()
        practitioner = Practitioner.objects.filter(
            pk=cleaned["practitioner"], is_active=True
        ).first()
        start = parse_start(cleaned["start"])
        if (
            service is None
            or location is None
            or practitioner is None
            or start is None
            or not practitioner.locations.filter(pk=location.pk).exists()
        ):
            raise forms.ValidationError(INVALID_CHOICE)
        if start <= self.now:
            raise forms.ValidationError(
                _("That time has already passed. Please choose another."), code="past"
            )
        if self.weeks is not None and cleaned.get("sessions") not in self.weeks:
            raise forms.ValidationError(
                _("Choose between %(low)d and %(high)d weekly visits.")
                % {"low": self.weeks.start, "high": self.weeks.stop - 1}
            )
        cleaned.update(
            {
                "service": service,
                "location": location,
                "practitioner": practitioner,
                "start": start,
            }
        )
        return cleaned

    def error_text(self) -> str:
        return " ".join(str(e) for e in self.non_field_errors()) or str(INVALID_CHOICE)

    def picker_data(self) -> dict[str, str]:
        """Return picker parameters that show this choice's service, person, place and day."""
        data: dict[str, str] = {}
        raw = self.data
        for key in ("service", "location", "sessions"):
            if raw.get(key):
                data[key] = str(raw.get(key))
        if raw.get("practitioner") and not raw.get("any"):
            data["practitioner"] = str(raw.get("practitioner"))
        start = parse_start(str(raw.get("start", "")))
        location = self.cleaned_data.get("location") if hasattr(self, "cleaned_data") else None
        if start is not None and isinstance(location, Location):
            local = start.astimezone(location.zone).date()
            data["week"] = local.isoformat()
            data["day"] = local.isoformat()
        return data


class CalendarForm(forms.Form):
    location = forms.TypedChoiceField(label=gettext_lazy("Location"), coerce=int, required=False)
    date = forms.DateField(
        label=gettext_lazy("Day"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def __init__(self, *args: Any, locations: list[Location], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["location"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(loc.pk, loc.name) for loc in locations]

    def clean_date(self) -> dt.date | None:
        day: dt.date | None = self.cleaned_data.get("date")
        if day is not None and not FIRST_DAY <= day <= LAST_DAY:
            raise forms.ValidationError(
                _("Choose a day between %(first)s and %(last)s.")
                % {"first": FIRST_DAY.isoformat(), "last": LAST_DAY.isoformat()}
            )
        return day


class CancelForm(forms.Form):
    """The staff's cancellation: why, and who called the visit off (required when late)."""

    reason = forms.CharField(
        label=gettext_lazy("Reason for cancelling"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    cancelled_by = forms.ChoiceField(
        label=gettext_lazy("Who cancelled?"),
        choices=CancelledBy.choices,
        required=False,
        widget=forms.RadioSelect,
        error_messages={
            "required": gettext_lazy("Say whether the patient or the clinic cancelled."),
        },
    )

    def __init__(self, *args: Any, late: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Inside the late window both are needed, and who cancelled decides the fee: nothing
        # is chosen for the desk.
        self.fields["reason"].required = late
        self.fields["reason"].error_messages["required"] = _(
            "Give a reason to cancel inside the late-cancellation window."
        )
        self.fields["cancelled_by"].required = late
