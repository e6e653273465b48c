"""Forms of the needle stock and sharps log pages."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from imsclinic.clinic.models import RECALL_REASON_MAX, STOCK_LEVEL_MAX, Location, NeedleLot


def _date_widget() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class NeedleLotForm(forms.ModelForm[NeedleLot]):
    class Meta:
        model = NeedleLot
        fields = (
            "lot_number",
            "manufacturer",
            "diameter_mm",
            "length_mm",
            "expires_on",
            "quantity_received",
            "received_on",
        )
        widgets = {
            "expires_on": _date_widget(),
            "received_on": _date_widget(),
            "diameter_mm": forms.NumberInput(attrs={"step": "0.01", "min": "0.01"}),
            "length_mm": forms.NumberInput(attrs={"min": "1"}),
            "quantity_received": forms.NumberInput(attrs={"min": "1"}),
        }
        error_messages = {
            "lot_number": {"required": _("Write the lot number printed on the box.")},
            "manufacturer": {"required": _("Write who made the needles.")},
            "diameter_mm": {"required": _("Enter the needle diameter, e.g. 0.30.")},
            "length_mm": {"required": _("Enter the needle length in millimetres, e.g. 40.")},
            "expires_on": {"required": _("Enter the expiry date printed on the box.")},
            "quantity_received": {"required": _("Enter how many needles arrived.")},
            "received_on": {"required": _("Enter the day the lot arrived.")},
        }

    # The model's clean() gives the per-field messages; the service refuses a duplicate lot
    # in plain words, and the database constraints back both.
    def validate_unique(self) -> None:
        pass

    def validate_constraints(self) -> None:
        pass


class RecallForm(forms.Form):
    reason = forms.CharField(
        label=_("Why is the lot recalled?"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=RECALL_REASON_MAX,
        help_text=_("For example: the manufacturer's recall notice and its reference."),
        error_messages={"required": _("Say why the lot is recalled.")},
    )


class SharpsOpenForm(forms.Form):
    label = forms.CharField(
        label=_("Label on the container"),
        max_length=60,
        error_messages={"required": _("Write the label on the container.")},
    )
    location = forms.ModelChoiceField(
        label=_("Location"),
        queryset=Location.objects.none(),
        empty_label=None,
        error_messages={"required": _("Choose where the container is.")},
    )
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["location"].queryset = Location.objects.filter(is_active=True)  # type: ignore[attr-defined]


class SharpsCollectForm(forms.Form):
    name = forms.CharField(
        label=_("Collected by (name)"),
        max_length=120,
        error_messages={"required": _("Write the name of the person who collected it.")},
    )
    company = forms.CharField(label=_("Disposal company"), max_length=120, required=False)


def size_value(diameter: object, length: object) -> str:
    """Return a size as a form value, e.g. "0.30x40"."""
    return f"{diameter:.2f}x{length}"


class StockLevelForm(forms.Form):
    """The owner's low-stock level for one size; left empty, the size has none."""

    size = forms.ChoiceField(
        label=_("Needle size"),
        choices=(),
        error_messages={"required": _("Choose a needle size.")},
    )
    warn_below = forms.IntegerField(
        label=_("Warn when fewer than this many are on hand"),
        required=False,
        min_value=1,
        max_value=STOCK_LEVEL_MAX,
        help_text=_(
            "Counted over the lots of this size that may still be used. Leave empty for no "
            "warning. You are emailed once when the size falls below it, and again only after "
            "it has been restocked."
        ),
    )

    def __init__(self, *args: Any, sizes: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["size"].choices = sizes  # type: ignore[attr-defined]
