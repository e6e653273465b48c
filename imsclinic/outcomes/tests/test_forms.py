"""Questionnaire forms built from instrument definitions; licensed wording loaded by a command."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from imsclinic.accounts.models import User
from imsclinic.core.models import AuditEvent
from imsclinic.outcomes.errors import WordingInvalid
from imsclinic.outcomes.forms.measures import SKIP, MeasureForm
from imsclinic.outcomes.instruments import (
    CODES,
    FREE_TO_REPRODUCE,
    LICENSED,
    check_wording,
    definition,
    psfs,
    template,
)
from imsclinic.outcomes.models import InstrumentText
from imsclinic.outcomes.scoring import INSTRUMENTS
from imsclinic.outcomes.wording import shown_definition

DATA = Path(__file__).resolve().parents[1] / "data"


def odi_post(**answers: str) -> dict[str, str]:
    data = {f"item_{n}": "2" for n in range(1, 11)}
    data.update(answers)
    return data


def synthetic_wording(code: str) -> dict[str, Any]:
    """A wording file with made-up text (the real text is the clinic's, under licence)."""
    filled = template(code)
    for number, item in enumerate(filled["items"], start=1):
        item["text"] = f"Synthetic question {number}"
        item["options"] = [f"Synthetic answer {number}.{v}" for v in range(len(item["options"]))]
    return filled


@pytest.mark.parametrize("code", CODES)
def test_it_describes_every_instrument_the_scorer_knows(code: str) -> None:
    shown = definition(code)
    scored = INSTRUMENTS[code]
    assert (shown.version, shown.item_min, shown.item_max) == (
        scored.version,
        scored.item_min,
        scored.item_max,
    )
    if code != "PSFS":
        assert len(shown.items) == scored.max_items
        assert all(item.title and item.low and item.high for item in shown.items)


def test_it_ships_no_wording_for_the_copyrighted_instruments() -> None:
    assert set(CODES) == LICENSED | FREE_TO_REPRODUCE
    for code in LICENSED:
        assert not any(item.text or item.options for item in definition(code).items)


def test_it_ships_a_wording_template_for_each_copyrighted_instrument() -> None:
    for code in LICENSED:
        shipped = json.loads((DATA / f"{code.lower()}-wording.template.json").read_text())
        assert shipped["version"] == definition(code).version
        assert len(shipped["items"]) == len(definition(code).items)


def test_it_builds_one_optional_radio_group_per_item() -> None:
    form = MeasureForm(definition=definition("ODI"))
    assert list(form.fields) == [f"item_{n}" for n in range(1, 11)]
    assert all(not field.required for field in form.fields.values())
    values = [value for value, _label in form.fields["item_1"].choices]  # type: ignore[attr-defined]
    assert values == ["0", "1", "2", "3", "4", "5", SKIP]


def test_it_reads_blank_and_skipped_items_as_missing() -> None:
    form = MeasureForm(odi_post(item_3="", item_7=SKIP), definition=definition("ODI"))
    assert form.is_valid(), form.errors
    assert form.answers() == [2, 2, None, 2, 2, 2, None, 2, 2, 2]
    assert form.answered_count() == 8


def test_it_refuses_a_value_outside_the_item_range_and_names_the_item() -> None:
    form = MeasureForm(odi_post(item_4="6"), definition=definition("ODI"))
    assert not form.is_valid()
    assert list(form.errors) == ["item_4"]


def test_it_rates_the_psfs_activities_of_the_plan_in_their_order() -> None:
    form = MeasureForm(
        {"item_1": "3", "item_2": "", "item_3": "7"},
        definition=psfs(["Walk the dog", "Garden", "Lift my grandchild"]),
    )
    assert form.is_valid(), form.errors
    assert form.answers() == [3, None, 7]
    assert form.labels() == ["Walk the dog", "Garden", "Lift my grandchild"]
    assert form.fields["item_1"].label == "Walk the dog"


def test_it_lets_the_patient_name_three_to_five_activities_when_the_plan_has_none() -> None:
    form = MeasureForm(
        {
            "activity_1": "Walk the dog",
            "item_1": "4",
            "activity_2": "",
            "activity_3": "Garden",
            "item_3": "6",
            "activity_4": "Run",
        },
        definition=psfs([]),
        name_activities=True,
    )
    assert form.is_valid(), form.errors
    assert form.labels() == ["Walk the dog", "Garden", "Run"]
    assert form.answers() == [4, 6, None]


def test_it_asks_for_at_least_three_activities_and_a_name_for_each_rating() -> None:
    form = MeasureForm(
        {"activity_1": "Walk the dog", "item_1": "4", "item_2": "5"},
        definition=psfs([]),
        name_activities=True,
    )
    assert not form.is_valid()
    assert "activity_2" in form.errors
    assert any("at least 3" in message for message in form.errors["activity_2"])
    assert any("Name the activity you rated" in message for message in form.errors["activity_2"])


def test_it_refuses_a_wording_file_that_does_not_fit_the_instrument() -> None:
    wording = synthetic_wording("NDI")
    wording["items"][2]["options"].pop()
    with pytest.raises(WordingInvalid, match="Item 3 needs 6 options"):
        check_wording("NDI", wording)
    with pytest.raises(WordingInvalid, match="version"):
        check_wording("NDI", {**synthetic_wording("NDI"), "version": "NDI 2008"})
    with pytest.raises(WordingInvalid, match="shipped"):
        check_wording("PSFS", {})


@pytest.mark.django_db
def test_the_forms_show_the_wording_a_clinic_loaded_with_the_command(
    tmp_path: Path, owner: User
) -> None:
    path = tmp_path / "lefs.json"
    path.write_text(json.dumps(synthetic_wording("LEFS")))
    assert not shown_definition("LEFS").licensed_wording

    call_command("load_instrument_text", str(path), "--by", owner.email, stdout=None)

    shown = shown_definition("LEFS")
    assert shown.licensed_wording
    assert shown.items[0].text == "Synthetic question 1"
    labels = [label for _v, label in MeasureForm(definition=shown).fields["item_1"].choices]  # type: ignore[attr-defined]
    assert labels[0] == "0 — Synthetic answer 1.0"
    assert InstrumentText.objects.get().loaded_by == owner
    assert AuditEvent.objects.filter(object_type="instrument_text", action="create").exists()


@pytest.mark.django_db
def test_the_command_says_what_is_wrong_with_a_bad_file_and_loads_nothing(
    tmp_path: Path, physio: User
) -> None:
    path = tmp_path / "odi.json"
    path.write_text(json.dumps({**synthetic_wording("ODI"), "items": []}))
    with pytest.raises(CommandError, match="ODI has 10 items"):
        call_command("load_instrument_text", str(path))
    path.write_text(json.dumps(synthetic_wording("ODI")))
    with pytest.raises(CommandError, match="Only the owner"):
        call_command("load_instrument_text", str(path), "--by", physio.email)
    assert not InstrumentText.objects.exists()
