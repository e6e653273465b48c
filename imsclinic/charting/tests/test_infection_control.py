"""Infection control on the needling note: the clinic's protocol confirmed before signing.

The practitioner ticks each step of the protocol the owner keeps at /manage/ and chooses the
sharps container the used needles went into; the signed note, the chart and the summary PDF
show what was confirmed in the words of that day.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from imsclinic.charting import services
from imsclinic.charting.errors import ChartingError, SignedNoteLocked
from imsclinic.charting.models import (
    InfectionControlRecord,
    InfectionControlStep,
    NeedlingRow,
    NeedlingSession,
    NoteStatus,
)
from imsclinic.charting.selectors import infection_control_protocol
from imsclinic.clinic.models import Location
from imsclinic.core.models import AuditEvent
from tests.factories.charting import (
    confirm_infection_control,
    ensure_catalogue,
    ensure_infection_protocol,
    muscle,
    row,
    sharps_container,
    signed_session,
)
from tests.factories.clients import signed_in

pytestmark = pytest.mark.django_db

HANDS = "Hands cleaned before touching the patient and again after needling."
NOT_CONFIRMED = "Confirm each step of the clinic&#x27;s infection-control protocol for this visit."
NO_CONTAINER = "Choose the sharps container the used needles went into."
LOCKED = "charting_signed_note_locked"


@pytest.fixture(autouse=True)
def _catalogue(db: None) -> None:
    ensure_catalogue()
    ensure_infection_protocol()


@pytest.fixture
def container(visit: Any, physio: Any) -> Any:
    return sharps_container(visit.location, physio, label="KIT-014")


@pytest.fixture
def draft(visit: Any, physio: Any, lot: Any) -> NeedlingSession:
    session = services.session_start(appointment=visit, actor=physio)
    return services.session_save_draft(
        session=session,
        actor=physio,
        data={"nprs_before": 6, "nprs_after": 3},
        rows=[row("deltoid", lot)],
    )


def note_url(visit: Any) -> str:
    return reverse("session_note", args=[visit.pk])


def every_step() -> list[int]:
    return [step.pk for step in infection_control_protocol()]


def page_post(lot: Any, *, action: str = "sign", **fields: Any) -> dict[str, Any]:
    """The note form as the page posts it: pain scores, one row, the infection-control part."""
    return {
        "nprs_before": "6",
        "nprs_after": "3",
        "rom_change": "",
        "aftercare_notes": "",
        "notes": "",
        "rows-TOTAL": "1",
        "rows-0-muscle": str(muscle("deltoid").pk),
        "rows-0-side": "left",
        "rows-0-segment": "",
        "rows-0-insertions": "3",
        "rows-0-needle_lot": str(lot.pk),
        "rows-0-grasp": "mild",
        "rows-0-tolerance": "good",
        "rows-0-note": "",
        "infection_shown": "1",
        "infection_note": "",
        "action": action,
        **fields,
    }


def ticked(html: str) -> set[int]:
    """Return the protocol steps whose checkbox the page shows ticked."""
    boxes = re.findall(r'<input[^>]*name="infection_control"[^>]*>', html)
    return {int(re.search(r'value="(\d+)"', box).group(1)) for box in boxes if "checked" in box}  # type: ignore[union-attr]


def pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)


# --- the note page -------------------------------------------------------------------------


def test_the_draft_page_lists_the_protocol_as_labelled_checkboxes_and_the_open_containers(
    visit: Any, physio: Any, draft: Any, container: Any
) -> None:
    html = signed_in(physio).get(note_url(visit)).content.decode()
    for step in infection_control_protocol():
        assert f'value="{step.pk}"' in html
    assert HANDS in html
    assert 'name="infection_control"' in html and 'type="checkbox"' in html
    assert '<label for="id_sharps_container">' in html
    assert f'<option value="{container.pk}">KIT-014</option>' in html


def test_signing_on_the_page_without_confirming_infection_control_is_refused_and_says_why(
    visit: Any, physio: Any, lot: Any, draft: Any, container: Any
) -> None:
    page = signed_in(physio).post(note_url(visit), page_post(lot, sharps_container=""))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Not signed" in html
    assert NOT_CONFIRMED in html and NO_CONTAINER in html
    assert 'id="infection-control-errors"' in html  # beside the checkboxes too
    assert NeedlingSession.objects.get(pk=draft.pk).status == NoteStatus.DRAFT
    assert not InfectionControlRecord.objects.exists()


def test_ticking_only_some_steps_records_nothing_and_the_note_stays_a_draft(
    visit: Any, physio: Any, lot: Any, draft: Any, container: Any
) -> None:
    some = every_step()[:2]
    page = signed_in(physio).post(
        note_url(visit),
        page_post(lot, infection_control=[str(pk) for pk in some], sharps_container=container.pk),
    )
    assert page.status_code == 200
    html = page.content.decode()
    assert "Tick every step of the clinic&#x27;s infection-control protocol" in html
    assert not InfectionControlRecord.objects.exists()
    assert NeedlingSession.objects.get(pk=draft.pk).status == NoteStatus.DRAFT
    # What was ticked stays ticked on the page, so nothing has to be ticked twice.
    assert ticked(html) == set(some)


def test_ticking_every_step_and_choosing_the_container_signs_and_the_note_shows_them(
    visit: Any, physio: Any, lot: Any, draft: Any, container: Any
) -> None:
    client = signed_in(physio)
    response = client.post(
        note_url(visit),
        page_post(
            lot,
            infection_control=[str(pk) for pk in every_step()],
            sharps_container=container.pk,
            infection_note="Skin cleansed twice over the shoulder.",
        ),
    )
    assert response.status_code == 302
    session = NeedlingSession.objects.get(pk=draft.pk)
    assert session.status == NoteStatus.SIGNED
    record = InfectionControlRecord.objects.get(session=session)
    assert record.steps == [step.text for step in infection_control_protocol()]
    assert (record.sharps_container, record.confirmed_by) == (container, physio)
    html = client.get(note_url(visit)).content.decode()
    assert "Infection control" in html and HANDS in html
    assert "Used needles went into sharps container KIT-014." in html
    assert "Skin cleansed twice over the shoulder." in html
    chart = client.get(reverse("patient_chart", args=[visit.patient_id])).content.decode()
    assert "Used needles went into sharps container KIT-014." in chart


def test_saving_the_draft_records_the_ticked_steps_and_the_page_shows_them_ticked(
    visit: Any, physio: Any, lot: Any, draft: Any, container: Any
) -> None:
    client = signed_in(physio)
    response = client.post(
        note_url(visit),
        page_post(
            lot,
            action="save",
            infection_control=[str(pk) for pk in every_step()],
            sharps_container=container.pk,
        ),
    )
    assert response.status_code == 302
    assert NeedlingSession.objects.get(pk=draft.pk).status == NoteStatus.DRAFT
    html = client.get(note_url(visit)).content.decode()
    assert ticked(html) == set(every_step())
    assert "Confirmed by Tara Treating on" in html


def test_a_location_with_no_open_container_is_told_so_and_where_to_open_one(
    visit: Any, physio: Any, draft: Any
) -> None:
    sharps_container(
        visit.location,
        physio,
        label="KIT-001",
        opened_at=timezone.now() - dt.timedelta(days=60),
        sealed_at=timezone.now() - dt.timedelta(days=2),
    )
    html = signed_in(physio).get(note_url(visit)).content.decode()
    assert "No sharps container is open at Kitsilano for this visit." in html
    assert f'href="{reverse("sharps_log")}"' in html
    assert "KIT-001" not in html


# --- the rules ---------------------------------------------------------------------------


def test_a_container_sealed_before_the_visit_is_refused(
    visit: Any, physio: Any, draft: Any
) -> None:
    sealed = sharps_container(
        visit.location,
        physio,
        label="KIT-009",
        opened_at=visit.start - dt.timedelta(days=30),
        sealed_at=visit.start - dt.timedelta(hours=2),
    )
    with pytest.raises(ChartingError) as refusal:
        services.infection_control_confirm(
            session=draft, step_ids=every_step(), sharps_container=sealed, actor=physio
        )
    assert refusal.value.errors["sharps_container"] == (
        "Sharps container KIT-009 was sealed before this visit: choose an open one."
    )
    assert not InfectionControlRecord.objects.exists()


def test_a_container_sealed_after_the_visit_still_counts_it_was_open_during_it(
    visit: Any, physio: Any, draft: Any, container: Any
) -> None:
    confirm_infection_control(draft, physio, container=container)
    type(container).objects.filter(pk=container.pk).update(
        sealed_at=visit.end + dt.timedelta(minutes=5), sealed_by=physio
    )
    later = visit.end + dt.timedelta(hours=1)
    assert services.session_sign(session=draft, actor=physio, now=later).status == "signed"


def test_a_container_at_another_location_is_refused(
    visit: Any, physio: Any, draft: Any, clinic: Any
) -> None:
    elsewhere = Location.objects.create(
        clinic=clinic,
        name="Mount Pleasant",
        slug="mount-pleasant",
        address_line1="200 Example St",
        city="Vancouver",
        region="BC",
        postal_code="V5T 1A1",
        phone="604-555-0102",
        time_zone="America/Vancouver",
    )
    there = sharps_container(elsewhere, physio, label="MTP-003")
    with pytest.raises(ChartingError) as refusal:
        services.infection_control_confirm(
            session=draft, step_ids=every_step(), sharps_container=there, actor=physio
        )
    assert refusal.value.errors["sharps_container"] == (
        "Sharps container MTP-003 is at another location: choose one at Kitsilano."
    )
    # And the page does not offer it.
    html = signed_in(physio).get(note_url(draft.appointment)).content.decode()
    assert "MTP-003" not in html


def test_confirming_is_audited_and_signing_needs_it(
    visit: Any, physio: Any, draft: Any, container: Any
) -> None:
    with pytest.raises(ChartingError) as refusal:
        services.session_sign(session=draft, actor=physio)
    assert set(refusal.value.errors) == {"infection_control", "sharps_container"}
    record = services.infection_control_confirm(
        session=draft, step_ids=every_step(), sharps_container=container, actor=physio
    )
    event = AuditEvent.objects.filter(object_type="needling_session", object_id=str(draft.pk))
    assert event.latest("pk").detail == {
        "infection_control": "confirmed",
        "steps": len(record.steps),
        "sharps_container": container.pk,
    }
    assert services.session_sign(session=draft, actor=physio).status == NoteStatus.SIGNED


def test_only_the_notes_author_records_its_infection_control(
    visit: Any, physio: Any, owner: Any, other_physio: Any, lot: Any, draft: Any, container: Any
) -> None:
    for someone in (owner, other_physio):
        with pytest.raises(PermissionDenied):
            services.infection_control_confirm(
                session=draft, step_ids=every_step(), sharps_container=container, actor=someone
            )
    assert AuditEvent.objects.filter(
        actor=owner, object_type="needling_session", outcome="denied"
    ).exists()
    posted = signed_in(owner).post(
        note_url(visit),
        page_post(
            lot,
            action="save",
            infection_control=[str(pk) for pk in every_step()],
            sharps_container=container.pk,
        ),
    )
    assert posted.status_code in (403, 404)
    assert not InfectionControlRecord.objects.exists()


def test_a_signed_notes_record_cannot_be_changed(
    visit: Any, physio: Any, lot: Any, container: Any
) -> None:
    signed = signed_session(visit, physio, [row("deltoid", lot)])
    record = InfectionControlRecord.objects.get(session=signed)
    with pytest.raises(SignedNoteLocked):
        services.infection_control_confirm(
            session=signed, step_ids=every_step(), sharps_container=container, actor=physio
        )
    record.note = "added later"
    with pytest.raises(SignedNoteLocked):
        record.save()
    assert InfectionControlRecord.objects.get(pk=record.pk).note == ""


# --- the owner's protocol ------------------------------------------------------------------


def test_the_owner_changes_the_protocol_and_an_old_signed_note_still_shows_what_was_confirmed(
    visit: Any, physio: Any, owner: Any, lot: Any, ready_patient: Any, ims_service: Any
) -> None:
    signed = signed_session(visit, physio, [row("deltoid", lot)])
    hands = InfectionControlStep.objects.get(text=HANDS)
    admin = signed_in(owner)
    changed = admin.post(
        reverse("owner_admin:charting_infectioncontrolstep_change", args=[hands.pk]),
        {"text": "Hands rubbed with alcohol gel for 20 seconds.", "order": "5", "is_active": "on"},
    )
    assert changed.status_code == 302
    added = admin.post(
        reverse("owner_admin:charting_infectioncontrolstep_add"),
        {"text": "Gloves worn when the skin is broken.", "order": "99", "is_active": "on"},
    )
    assert added.status_code == 302

    html = signed_in(physio).get(note_url(visit)).content.decode()
    assert HANDS in html
    assert "Hands rubbed with alcohol gel" not in html
    assert "Gloves worn" not in html
    assert InfectionControlRecord.objects.get(session=signed).steps[1] == HANDS

    later = NeedlingSession.objects.create(
        patient=ready_patient,
        appointment=type(visit).objects.create(
            patient=ready_patient,
            practitioner=visit.practitioner,
            location=visit.location,
            service=ims_service,
            start=visit.start + dt.timedelta(minutes=40),
            end=visit.end + dt.timedelta(minutes=40),
            busy_until=visit.end + dt.timedelta(minutes=40),
            status=visit.status,
        ),
        practitioner=physio,
    )
    page = signed_in(physio).get(note_url(later.appointment)).content.decode()
    assert "Hands rubbed with alcohol gel for 20 seconds." in page
    assert "Gloves worn when the skin is broken." in page


def test_a_draft_confirmed_before_the_protocol_changed_must_be_ticked_again(
    visit: Any, physio: Any, draft: Any, container: Any
) -> None:
    confirm_infection_control(draft, physio, container=container)
    InfectionControlStep.objects.create(text="Gloves worn when the skin is broken.", order=99)
    with pytest.raises(ChartingError) as refusal:
        services.session_sign(session=draft, actor=physio)
    assert refusal.value.errors == {
        "infection_control": (
            "The clinic's infection-control protocol changed after you confirmed it: "
            "tick its steps again."
        )
    }
    confirm_infection_control(draft, physio, container=container)
    assert services.session_sign(session=draft, actor=physio).status == NoteStatus.SIGNED


def test_the_protocol_starts_with_the_clinics_default_steps() -> None:
    texts = [step.text for step in infection_control_protocol()]
    assert len(texts) == 6
    assert HANDS in texts
    assert any("sterile, single-use needles" in text for text in texts)
    assert any("sharps container" in text for text in texts)


# --- notes signed before the record existed, and the PDF -----------------------------------


def test_a_note_signed_before_infection_control_was_recorded_says_so(
    visit: Any, physio: Any, lot: Any
) -> None:
    session = NeedlingSession.objects.create(
        patient=visit.patient, appointment=visit, practitioner=physio, nprs_before=5, nprs_after=2
    )
    NeedlingRow.objects.create(
        session=session,
        position=1,
        muscle=muscle("deltoid"),
        side="left",
        segment="C5",
        insertions=2,
        needle_lot=lot,
    )
    NeedlingSession.objects.filter(pk=session.pk).update(
        status=NoteStatus.SIGNED, signed_at=timezone.now(), signed_by=physio
    )
    client = signed_in(physio)
    html = client.get(note_url(visit)).content.decode()
    assert "No infection-control record (signed before it was recorded)." in html
    pdf = client.get(reverse("patient_chart_summary_pdf", args=[visit.patient_id]))
    assert pdf.status_code == 200
    assert "no infection-control record (signed before it was recorded)" in pdf_text(pdf.content)


def test_the_summary_pdf_shows_the_confirmed_steps_and_the_container(
    visit: Any, physio: Any, lot: Any, draft: Any, container: Any
) -> None:
    confirm_infection_control(draft, physio, container=container)
    services.session_sign(session=draft, actor=physio)
    pdf = signed_in(physio).get(reverse("patient_chart_summary_pdf", args=[visit.patient_id]))
    text = pdf_text(pdf.content)
    assert "Infection control at each session" in text
    assert HANDS in text
    assert "used needles into sharps container KIT-014" in text
    assert "confirmed by Tara Treating" in text


@pytest.mark.postgres
def test_the_database_refuses_to_change_or_delete_a_signed_notes_infection_control_record(
    visit: Any, physio: Any, lot: Any
) -> None:
    signed = signed_session(visit, physio, [row("deltoid", lot)])
    table = InfectionControlRecord._meta.db_table
    with pytest.raises(IntegrityError, match=LOCKED), transaction.atomic():
        InfectionControlRecord.objects.filter(session=signed).update(note="added later")
    with (
        pytest.raises(IntegrityError, match=LOCKED),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(f"DELETE FROM {table} WHERE session_id = %s", [signed.pk])
    assert InfectionControlRecord.objects.get(session=signed).note == ""
