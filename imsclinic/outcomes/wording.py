"""The questionnaire as it is shown: the shipped definition, or the clinic's licensed wording."""

from __future__ import annotations

from collections.abc import Sequence

from imsclinic.outcomes.instruments import LICENSED, Definition, definition, psfs, with_wording


def shown_definition(code: str, *, activities: Sequence[str] = ()) -> Definition:
    """Return the instrument to show: loaded wording when the clinic has it, else ours."""
    if code == "PSFS":
        return psfs(activities)
    base = definition(code)
    if code not in LICENSED:
        return base
    from imsclinic.outcomes.models import InstrumentText

    loaded = (
        InstrumentText.objects.filter(instrument=code, version=base.version)
        .order_by("-loaded_at", "-pk")
        .values_list("items", flat=True)
        .first()
    )
    if not loaded:
        return base
    return with_wording(base, loaded)
