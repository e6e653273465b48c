"""The infection-control part of the needling note: the protocol's steps, the container, a note."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy

from imsclinic.charting.models import (
    INFECTION_NOTE_MAX_LENGTH,
    InfectionControlRecord,
    InfectionControlStep,
)
from imsclinic.clinic.models import SharpsContainer

# The page sends this with the fields, so a post without them leaves the record alone.
SHOWN = "infection_shown"


class InfectionControlForm(forms.Form):
    """The steps ticked, the sharps container chosen and the note; the service checks the rest.

    Field names are the service's error keys, so a refusal lands beside its field.
    """

    infection_control = forms.TypedMultipleChoiceField(
        label=gettext_lazy("Steps of the clinic's infection-control protocol followed"),
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "invalid_choice": gettext_lazy(
                "The clinic's protocol changed while you were charting: tick its steps again."
            )
        },
    )
    sharps_container = forms.TypedChoiceField(
        label=gettext_lazy("Sharps container the used needles went into"),
        coerce=int,
        empty_value=None,
        required=False,
        error_messages={"invalid_choice": gettext_lazy("Choose a sharps container from the list.")},
    )
    infection_note = forms.CharField(
        label=gettext_lazy("Infection-control note (optional)"),
        required=False,
        max_length=INFECTION_NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(
        self,
        *args: Any,
        steps: Sequence[InfectionControlStep],
        containers: Sequence[SharpsContainer],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.steps = list(steps)
        self.containers = {container.pk: container for container in containers}
        self.fields["infection_control"].choices = [(step.pk, step.text) for step in self.steps]  # type: ignore[attr-defined]
        self.fields["sharps_container"].choices = [  # type: ignore[attr-defined]
            ("", gettext_lazy("Choose the container")),
            *((container.pk, container.label) for container in containers),
        ]

    def chosen(self) -> tuple[frozenset[int], int | None, str]:
        """Return what was posted: the steps ticked, the container's id and the note."""
        data = self.cleaned_data
        return (
            frozenset(data.get("infection_control") or ()),
            data.get("sharps_container"),
            data.get("infection_note") or "",
        )

    def container(self) -> SharpsContainer | None:
        container_id = self.cleaned_data.get("sharps_container")
        return self.containers.get(container_id) if container_id is not None else None


def stored_choice(
    record: InfectionControlRecord | None, steps: Sequence[InfectionControlStep]
) -> tuple[frozenset[int], int | None, str]:
    """Return the stored record as the form would post it.

    The steps count as ticked only while the record's words are still the protocol's: once
    the owner changes the protocol they have to be ticked again.
    """
    if record is None:
        return frozenset(), None, ""
    same = record.steps == [step.text for step in steps]
    ticked = frozenset(step.pk for step in steps) if same else frozenset()
    return ticked, record.sharps_container_id, record.note


def initial_for(
    record: InfectionControlRecord | None, steps: Sequence[InfectionControlStep]
) -> dict[str, Any]:
    ticked, container_id, note = stored_choice(record, steps)
    return {
        "infection_control": sorted(ticked),
        "sharps_container": container_id,
        "infection_note": note,
    }
