"""Needles on hand: each needling row takes its needles from its lot, and drafts give them back."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from imsclinic.accounts.models import User
from imsclinic.charting import services
from imsclinic.charting.errors import ChartingError
from imsclinic.charting.models import NeedlingRow, NeedlingSession
from imsclinic.clinic.models import NeedleLot, Service
from imsclinic.core.models import AuditEvent
from imsclinic.patients.models import Patient
from imsclinic.scheduling.models import Appointment
from tests.factories.charting import (
    ensure_catalogue,
    ims_visit,
    muscle,
    needle_lot,
    row,
    signed_assessment,
    signed_session,
)
from tests.factories.clients import signed_in
from tests.factories.safety import make_ready_for_needling


def on_hand(lot: NeedleLot) -> int:
    lot.refresh_from_db()
    return lot.quantity_on_hand


def draft(visit: Appointment, physio: User, rows: list[services.RowInput]) -> NeedlingSession:
    session = services.session_start(appointment=visit, actor=physio)
    return services.session_save_draft(session=session, actor=physio, rows=rows)


@pytest.mark.django_db
class TestDrafts:
    def test_a_saved_row_takes_one_needle_unless_told_more(
        self, visit: Appointment, physio: User, lot: NeedleLot
    ) -> None:
        draft(visit, physio, [row("deltoid", lot), row("infraspinatus", lot, needles=3)])
        assert on_hand(lot) == 100 - 1 - 3
        assert list(
            NeedlingRow.objects.order_by("position").values_list("needles_used", flat=True)
        ) == [1, 3]

    def test_removing_a_draft_row_gives_its_needles_back(
        self, visit: Appointment, physio: User, lot: NeedleLot
    ) -> None:
        session = draft(visit, physio, [row("deltoid", lot, needles=2), row("soleus", lot)])
        assert on_hand(lot) == 97
        services.session_save_draft(session=session, actor=physio, rows=[row("soleus", lot)])
        assert on_hand(lot) == 99
        services.session_save_draft(session=session, actor=physio, rows=[])
        assert on_hand(lot) == 100

    def test_saving_the_same_rows_again_changes_nothing_on_hand(
        self, visit: Appointment, physio: User, lot: NeedleLot
    ) -> None:
        rows = [row("deltoid", lot, needles=2)]
        session = draft(visit, physio, rows)
        for _ in range(3):  # the page saves as the practitioner types
            services.session_save_draft(session=session, actor=physio, rows=rows)
        assert on_hand(lot) == 98

    def test_moving_a_row_to_another_lot_returns_the_needles_to_the_first(
        self, visit: Appointment, physio: User, lot: NeedleLot
    ) -> None:
        other = needle_lot("LOT-OK-2")
        session = draft(visit, physio, [row("deltoid", lot, needles=2)])
        services.session_save_draft(
            session=session, actor=physio, rows=[row("deltoid", other, needles=2)]
        )
        assert (on_hand(lot), on_hand(other)) == (100, 98)

    def test_the_audit_row_says_how_many_needles_moved_from_which_lot(
        self, visit: Appointment, physio: User, lot: NeedleLot
    ) -> None:
        draft(visit, physio, [row("deltoid", lot, needles=2)])
        event = AuditEvent.objects.filter(object_type="needling_session", action="update").last()
        assert event is not None
        assert event.detail["needles"] == {str(lot.pk): -2}

    def test_signing_takes_nothing_more_and_the_signed_rows_keep_their_needles(
        self, visit: Appointment, physio: User, lot: NeedleLot
    ) -> None:
        signed_session(visit, physio, [row("deltoid", lot, needles=2)])
        assert on_hand(lot) == 98

    def test_copying_the_last_sessions_rows_takes_their_needles_again(
        self, ready_patient: Patient, physio: User, ims_service: Service, lot: NeedleLot
    ) -> None:
        last_week = ims_visit(
            ready_patient, physio, ims_service, start=timezone.now() - dt.timedelta(days=7)
        )
        signed_session(last_week, physio, [row("deltoid", lot, needles=2)])
        session = services.session_start(
            appointment=ims_visit(ready_patient, physio, ims_service), actor=physio
        )
        services.session_copy_last_rows(session=session, actor=physio)
        assert NeedlingRow.objects.get(session=session).needles_used == 2
        assert on_hand(lot) == 96


@pytest.mark.django_db
class TestRefusals:
    def test_a_lot_with_too_few_needles_refuses_the_rows_that_use_it_and_changes_nothing(
        self, visit: Appointment, physio: User
    ) -> None:
        small = needle_lot("LOT-SMALL", received=3)
        plenty = needle_lot("LOT-BIG")
        session = draft(visit, physio, [row("deltoid", small)])
        with pytest.raises(ChartingError) as refused:
            services.session_save_draft(
                session=session,
                actor=physio,
                rows=[
                    row("deltoid", small, needles=2),
                    row("soleus", plenty),
                    row("infraspinatus", small, needles=2),
                ],
            )
        # The draft's own needle counts as left: 2 on hand + 1 it gives back.
        assert refused.value.errors == {
            "rows.0.needle_lot": "Lot LOT-SMALL has only 3 needles left.",
            "rows.2.needle_lot": "Lot LOT-SMALL has only 3 needles left.",
        }
        assert (on_hand(small), on_hand(plenty)) == (2, 100)
        assert [r.muscle.code for r in session.rows.all()] == ["deltoid"]

    def test_an_empty_lot_says_so(self, visit: Appointment, physio: User) -> None:
        empty = needle_lot("LOT-LAST", received=1)
        NeedleLot.objects.filter(pk=empty.pk).update(quantity_on_hand=0)
        with pytest.raises(ChartingError) as refused:
            draft(visit, physio, [row("deltoid", empty)])
        assert refused.value.errors["rows.0.needle_lot"] == (
            "Lot LOT-LAST has no needles left: choose another lot."
        )

    def test_more_needles_than_insertions_is_refused_on_the_row(
        self, visit: Appointment, physio: User, lot: NeedleLot
    ) -> None:
        with pytest.raises(ChartingError) as refused:
            draft(visit, physio, [row("deltoid", lot, insertions=2, needles=3)])
        assert "rows.0.needles_used" in refused.value.errors
        assert on_hand(lot) == 100

    def test_the_database_refuses_a_lot_below_zero(self, lot: NeedleLot) -> None:
        with pytest.raises(IntegrityError), transaction.atomic():
            NeedleLot.objects.filter(pk=lot.pk).update(quantity_on_hand=-1)

    def test_the_database_refuses_more_on_hand_than_received(self, lot: NeedleLot) -> None:
        with pytest.raises(IntegrityError), transaction.atomic():
            NeedleLot.objects.filter(pk=lot.pk).update(quantity_on_hand=101)

    def test_the_database_refuses_a_row_with_more_needles_than_insertions(
        self, visit: Appointment, physio: User, lot: NeedleLot
    ) -> None:
        draft(visit, physio, [row("deltoid", lot, insertions=2)])
        with pytest.raises(IntegrityError), transaction.atomic():
            NeedlingRow.objects.update(needles_used=3)


@pytest.mark.django_db
class TestPage:
    @pytest.fixture(autouse=True)
    def _catalogue(self, db: None) -> None:
        ensure_catalogue()

    def post(self, lot: NeedleLot, **row_fields: str) -> dict[str, Any]:
        return {
            "action": "save",
            "nprs_before": "6",
            "rows-TOTAL": "1",
            "rows-0-muscle": str(muscle("deltoid").pk),
            "rows-0-side": "left",
            "rows-0-insertions": "3",
            "rows-0-needle_lot": str(lot.pk),
            "rows-0-grasp": "mild",
            "rows-0-tolerance": "good",
            **{f"rows-0-{name}": value for name, value in row_fields.items()},
        }

    def test_the_row_asks_for_needles_used_and_the_lot_says_how_many_are_left(
        self, visit: Appointment, physio: User, lot: NeedleLot
    ) -> None:
        client = signed_in(physio)
        services.session_start(appointment=visit, actor=physio)
        page = client.get(reverse("session_note", args=[visit.pk])).content.decode()
        assert 'name="rows-0-needles_used"' in page and 'value="1"' in page
        assert "Needles used" in page
        assert "LOT-OK-1 · use by" in page and "100 left" in page
        response = client.post(
            reverse("session_note", args=[visit.pk]), self.post(lot, needles_used="2")
        )
        assert response.status_code == 302
        assert on_hand(lot) == 98

    def test_a_lot_running_out_is_named_beside_the_row_and_the_typing_is_kept(
        self, visit: Appointment, physio: User
    ) -> None:
        small = needle_lot("LOT-SMALL", received=1)
        services.session_start(appointment=visit, actor=physio)
        page = signed_in(physio).post(
            reverse("session_note", args=[visit.pk]), self.post(small, needles_used="2")
        )
        text = page.content.decode()
        assert "Lot LOT-SMALL has only 1 needle left." in text
        assert 'id="id_rows-0-needle_lot_error"' in text
        kept = 'id="id_rows-0-needles_used" min="1" max="50" inputmode="numeric" value="2"'
        assert kept in text
        assert on_hand(small) == 1

    def test_more_needles_than_insertions_is_marked_on_the_field(
        self, visit: Appointment, physio: User, lot: NeedleLot
    ) -> None:
        services.session_start(appointment=visit, actor=physio)
        page = signed_in(physio).post(
            reverse("session_note", args=[visit.pk]),
            self.post(lot, insertions="1", needles_used="2"),
        )
        assert "At most one needle per insertion" in page.content.decode()
        assert on_hand(lot) == 100

    def test_the_signed_note_shows_the_needles_each_row_used(
        self, visit: Appointment, physio: User, lot: NeedleLot
    ) -> None:
        signed_session(visit, physio, [row("deltoid", lot, needles=2)])
        page = signed_in(physio).get(reverse("session_note", args=[visit.pk])).content.decode()
        assert "LOT-OK-1 · 2 needles" in page


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_practitioners_taking_the_last_needles_of_a_lot_one_wins_and_none_go_negative(
    ready_patient: Patient,
    physio: User,
    other_physio: User,
    other_patient: Patient,
    ims_service: Service,
) -> None:
    ensure_catalogue()
    other_patient.care_team.add(other_physio.practitioner)
    make_ready_for_needling(other_patient, by=other_physio)
    signed_assessment(other_patient, other_physio)
    last = needle_lot("LOT-LAST", received=3)
    drafts = [
        (
            physio,
            services.session_start(
                appointment=ims_visit(ready_patient, physio, ims_service), actor=physio
            ),
        ),
        (
            other_physio,
            services.session_start(
                appointment=ims_visit(other_patient, other_physio, ims_service), actor=other_physio
            ),
        ),
    ]
    for _ in range(5):
        NeedlingRow.objects.all().delete()
        NeedleLot.objects.filter(pk=last.pk).update(quantity_on_hand=3)
        barrier = threading.Barrier(len(drafts))
        saved: list[int] = []
        refused: list[str] = []
        failed: list[BaseException] = []

        def take(actor: User, session: NeedlingSession) -> None:
            try:
                barrier.wait(timeout=30)
                services.session_save_draft(
                    session=session, actor=actor, rows=[row("deltoid", last, needles=2)]
                )
                saved.append(session.pk)
            except ChartingError as refusal:
                refused.append(refusal.errors.get("rows.0.needle_lot", ""))
            except BaseException as error:
                failed.append(error)
            finally:
                connection.close()

        threads = [threading.Thread(target=take, args=pair) for pair in drafts]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert failed == []
        assert len(saved) == 1
        assert refused == ["Lot LOT-LAST has only 1 needle left."]
        assert on_hand(last) == 1
        assert NeedlingRow.objects.count() == 1
