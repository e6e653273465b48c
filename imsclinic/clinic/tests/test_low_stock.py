"""Needles on hand on the stock page, the owner's low-stock levels, and the email sent once."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from imsclinic.accounts.models import User
from imsclinic.charting import services as charting
from imsclinic.clinic.models import NeedleLot, NeedleStockLevel, Service
from imsclinic.clinic.services import (
    StockRefused,
    needle_lot_add,
    needle_lot_recall,
    needle_stock_level_set,
    needle_stock_lock,
    needle_stock_move,
)
from imsclinic.clinic.tasks import alert_owner_of_low_stock
from imsclinic.core.models import AuditEvent
from imsclinic.patients.models import Patient
from tests.factories.charting import ims_visit, needle_lot, row, signed_assessment, signed_session
from tests.factories.clients import signed_in
from tests.factories.safety import make_ready_for_needling

pytestmark = pytest.mark.django_db

LOW_TASK = "imsclinic.clinic.tasks.alert_owner_of_low_stock"


def use(lot: NeedleLot, needles: int) -> None:
    """Take needles from a lot the way a draft's rows do, in one transaction."""
    with transaction.atomic():
        needle_stock_lock(lot_ids=[lot.pk])
        needle_stock_move(taken={lot.pk: needles}, given_back={})


def give_back(lot: NeedleLot, needles: int) -> None:
    with transaction.atomic():
        needle_stock_lock(lot_ids=[lot.pk])
        needle_stock_move(taken={}, given_back={lot.pk: needles})


def set_level(owner: User, warn_below: int | None, *, diameter: str = "0.30", length: int = 40):
    return needle_stock_level_set(
        diameter_mm=Decimal(diameter), length_mm=length, warn_below=warn_below, actor=owner
    )


def emails_queued() -> int:
    return DBTaskResult.objects.filter(task_path=LOW_TASK).count()


class TestLevels:
    def test_a_size_falling_below_its_level_queues_one_email_with_the_change(
        self, owner: User
    ) -> None:
        lot = needle_lot("LOT-A", received=100)
        set_level(owner, 50)
        assert emails_queued() == 0
        use(lot, 50)
        assert emails_queued() == 0  # 50 left: not below 50
        use(lot, 1)
        assert emails_queued() == 1
        level = NeedleStockLevel.objects.get()
        assert level.low_since is not None and level.owner_alerted_at is None

    def test_more_use_of_a_low_size_sends_nothing_more(self, owner: User) -> None:
        lot = needle_lot("LOT-A", received=100)
        set_level(owner, 90)
        use(lot, 20)
        use(lot, 5)
        use(lot, 5)
        assert emails_queued() == 1

    def test_restocking_to_the_level_clears_it_and_the_next_shortage_is_told_again(
        self, owner: User, physio: User
    ) -> None:
        lot = needle_lot("LOT-A", received=100)
        set_level(owner, 90)
        use(lot, 20)
        assert alert_owner_of_low_stock.call(NeedleStockLevel.objects.get().pk) == 1
        restock = needle_lot_add(
            lot_number="LOT-B",
            manufacturer="Acme Needles",
            diameter_mm=Decimal("0.30"),
            length_mm=40,
            expires_on=timezone.localdate() + dt.timedelta(days=400),
            quantity_received=100,
            received_on=timezone.localdate(),
            actor=physio,
        )
        level = NeedleStockLevel.objects.get()
        assert level.low_since is None and level.owner_alerted_at is None
        use(restock, 80)  # 180 -> 100: still enough
        assert emails_queued() == 1
        use(restock, 11)  # 89 left, below 90
        assert emails_queued() == 2

    def test_giving_needles_back_above_the_level_clears_it(self, owner: User) -> None:
        lot = needle_lot("LOT-A", received=100)
        set_level(owner, 90)
        use(lot, 20)
        give_back(lot, 20)
        assert NeedleStockLevel.objects.get().low_since is None

    def test_a_level_set_above_what_is_on_hand_tells_the_owners_at_once(self, owner: User) -> None:
        needle_lot("LOT-A", received=100)
        level = set_level(owner, 150)
        assert level is not None and level.low_since is not None
        assert emails_queued() == 1
        assert AuditEvent.objects.filter(
            object_type="needle_stock_level", actor=owner, object_id=str(level.pk)
        ).exists()

    def test_only_usable_lots_count_so_a_recall_can_leave_a_size_low(
        self, owner: User, physio: User
    ) -> None:
        needle_lot("LOT-A", received=100)
        needle_lot("LOT-OLD", received=500, expires_on=timezone.localdate() - dt.timedelta(days=1))
        other = needle_lot("LOT-B", received=100)
        set_level(owner, 150)  # 200 in usable lots; the expired 500 do not count
        assert emails_queued() == 0
        needle_lot_recall(lot=other, reason="Maker's notice.", actor=physio)
        assert NeedleStockLevel.objects.get().low_since is not None
        assert emails_queued() == 1

    def test_an_empty_level_removes_it(self, owner: User) -> None:
        needle_lot("LOT-A", received=100)
        set_level(owner, 20)
        assert set_level(owner, None) is None
        assert not NeedleStockLevel.objects.exists()

    def test_a_size_never_received_has_no_level(self, owner: User) -> None:
        needle_lot("LOT-A", received=100)
        with pytest.raises(StockRefused) as refused:
            set_level(owner, 20, diameter="0.18")
        assert refused.value.field == "size"

    def test_only_the_owner_sets_levels(self, physio: User, front_desk: User) -> None:
        needle_lot("LOT-A", received=100)
        for user in (physio, front_desk):
            with pytest.raises(PermissionDenied):
                set_level(user, 20)
        assert not NeedleStockLevel.objects.exists()
        assert (
            AuditEvent.objects.filter(object_type="needle_stock_level", outcome="denied").count()
            == 2
        )


class TestEmail:
    def test_each_active_owner_is_emailed_the_size_and_count_and_nothing_about_patients(
        self, owner: User, physio: User
    ) -> None:
        second = User.objects.create_user(
            email="second.owner@cedar.example", password="x", role="owner"
        )
        User.objects.create_user(
            email="former.owner@cedar.example", password="x", role="owner", is_active=False
        )
        lot = needle_lot("LOT-A", received=100)
        set_level(owner, 90)
        use(lot, 20)
        level = NeedleStockLevel.objects.get()
        assert alert_owner_of_low_stock.call(level.pk) == 2
        assert sorted(message.to[0] for message in mail.outbox) == sorted(
            [owner.email, second.email]
        )
        message = mail.outbox[0]
        assert "0.30 x 40 mm" in message.subject
        assert "80 on hand" in message.body and "below 90" in message.body
        assert reverse("stock_lots") in message.body
        assert "Pat" not in message.body and "patient" not in message.body.lower()

    def test_the_email_goes_once_however_often_the_task_runs(self, owner: User) -> None:
        lot = needle_lot("LOT-A", received=100)
        set_level(owner, 90)
        use(lot, 20)
        level = NeedleStockLevel.objects.get()
        assert alert_owner_of_low_stock.call(level.pk) == 1
        assert alert_owner_of_low_stock.call(level.pk) == 0
        assert len(mail.outbox) == 1

    def test_nothing_goes_when_the_size_was_restocked_before_the_task_ran(
        self, owner: User
    ) -> None:
        lot = needle_lot("LOT-A", received=100)
        set_level(owner, 90)
        use(lot, 20)
        give_back(lot, 20)
        assert alert_owner_of_low_stock.call(NeedleStockLevel.objects.get().pk) == 0
        assert mail.outbox == []


class TestStockPage:
    def test_the_page_shows_on_hand_per_lot_and_per_size_and_warns_of_a_low_size(
        self, owner: User, front_desk: User
    ) -> None:
        lot = needle_lot("LOT-A", received=100)
        needle_lot("LOT-B", received=40, diameter="0.25", length=30)
        set_level(owner, 50, diameter="0.25", length=30)
        use(lot, 7)
        page = signed_in(front_desk).get(reverse("stock_lots")).content.decode()
        assert "<td>93</td>" in page
        assert "On hand by size" in page
        assert "93 needles" in page and "40 needles" in page
        assert "Running low" in page
        assert "0.25 x 30 mm: 40 on hand in usable lots, below the level of 50." in page
        assert "Set low-stock levels" not in page  # the front desk only reads

    def test_no_warning_when_every_size_has_enough(self, owner: User) -> None:
        needle_lot("LOT-A", received=100)
        set_level(owner, 50)
        page = signed_in(owner).get(reverse("stock_lots")).content.decode()
        assert "Running low" not in page
        assert "Set low-stock levels" in page

    def test_the_page_shows_needles_used_per_week_by_the_visits_week(
        self, owner: User, physio: User, patient: Patient, ims_service: Service
    ) -> None:
        make_ready_for_needling(patient, by=physio, at=timezone.now() - dt.timedelta(days=30))
        signed_assessment(patient, physio, at=timezone.now() - dt.timedelta(days=29))
        lot = needle_lot("LOT-A", received=100)
        now = timezone.now()
        two_weeks_ago = ims_visit(patient, physio, ims_service, start=now - dt.timedelta(weeks=2))
        signed_session(two_weeks_ago, physio, [row("deltoid", lot, needles=3)])
        signed_session(
            ims_visit(patient, physio, ims_service, start=now - dt.timedelta(weeks=20)),
            physio,
            [row("deltoid", lot, needles=2)],
        )
        page = signed_in(owner).get(reverse("stock_lots")).content.decode()
        table = page.split('id="use-per-week"')[1].split("</table>")[0]
        assert table.count("<tr>") == 1 + 8  # the heading and eight weeks
        assert "0.30 x 40 mm" in table
        assert "<td>3</td>" in table  # the visit two weeks ago; the one 20 weeks ago is out
        assert "<td>2</td>" not in table

    def test_the_owner_sets_a_level_on_its_page(self, owner: User) -> None:
        needle_lot("LOT-A", received=100)
        client = signed_in(owner)
        form = client.get(reverse("stock_levels"))
        assert form.status_code == 200 and "0.30 x 40 mm" in form.content.decode()
        response = client.post(reverse("stock_levels"), {"size": "0.30x40", "warn_below": "120"})
        assert response.status_code == 302
        assert NeedleStockLevel.objects.get().warn_below == 120
        page = client.get(reverse("stock_lots")).content.decode()
        assert "You will be warned when fewer than 120 of 0.30 x 40 mm are on hand." in page
        assert "Running low" in page

    def test_a_bad_level_is_refused_beside_its_field(self, owner: User) -> None:
        needle_lot("LOT-A", received=100)
        response = signed_in(owner).post(
            reverse("stock_levels"), {"size": "0.30x40", "warn_below": "0"}
        )
        assert response.status_code == 400
        assert not NeedleStockLevel.objects.exists()

    def test_practitioners_and_the_front_desk_cannot_open_the_levels_page(
        self, physio: User, front_desk: User
    ) -> None:
        needle_lot("LOT-A", received=100)
        for user in (physio, front_desk):
            client = signed_in(user)
            assert client.get(reverse("stock_levels")).status_code == 403
            assert (
                client.post(
                    reverse("stock_levels"), {"size": "0.30x40", "warn_below": "10"}
                ).status_code
                == 403
            )
        assert not NeedleStockLevel.objects.exists()


def test_a_recall_finds_every_patient_with_the_needles_their_rows_used(
    owner: User,
    physio: User,
    other_physio: User,
    patient: Patient,
    other_patient: Patient,
    ims_service: Service,
) -> None:
    other_patient.care_team.add(other_physio.practitioner)
    for who, by in ((patient, physio), (other_patient, other_physio)):
        make_ready_for_needling(who, by=by)
        signed_assessment(who, by)
    lot = needle_lot("LOT-R", received=100)
    # A signed note of one patient and a draft of the other, both taking from the lot.
    signed_session(
        ims_visit(patient, physio, ims_service),
        physio,
        [row("deltoid", lot, needles=2), row("infraspinatus", lot, needles=3)],
    )
    draft = charting.session_start(
        appointment=ims_visit(other_patient, other_physio, ims_service), actor=other_physio
    )
    charting.session_save_draft(
        session=draft, actor=other_physio, rows=[row("soleus", lot, needles=1)]
    )
    lot.refresh_from_db()
    assert lot.quantity_on_hand == 100 - 6
    needle_lot_recall(lot=lot, reason="Maker's sterility notice.", actor=owner)

    client = signed_in(owner)
    page = client.get(reverse("stock_lot_patients", args=[lot.pk])).content.decode()
    assert "Pat Ient" in page and "Otto Osborne" in page
    exported = client.get(reverse("stock_lot_patients_csv", args=[lot.pk])).content.decode()
    rows = list(csv.reader(io.StringIO(exported)))
    assert rows[0][6:8] == ["Insertions", "Needles"]
    by_name = {line[0]: line for line in rows[1:]}
    assert set(by_name) == {"Pat Ient", "Otto Osborne"}
    assert by_name["Pat Ient"][4:8] == ["1", "0", "6", "5"]  # 3 + 3 insertions, 2 + 3 needles
    assert by_name["Otto Osborne"][4:8] == ["1", "1", "3", "1"]
