"""Needle stock pages: adding and recalling lots, finding a lot's patients, the sharps log."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from imsclinic.accounts.models import User
from imsclinic.clinic.models import Location, NeedleLot, SharpsContainer
from imsclinic.clinic.selectors import usable_lots
from imsclinic.clinic.services import (
    StockRefused,
    needle_lot_recall,
    sharps_container_collect,
    sharps_container_open,
    sharps_container_seal,
)
from imsclinic.clinic.tests.needling import make_lot, needling_session
from imsclinic.core.models import AuditEvent
from imsclinic.patients.models import Patient
from tests.factories.clients import signed_in

pytestmark = pytest.mark.django_db


LOT_FORM = {
    "lot_number": "K-2291",
    "manufacturer": "Synthetic Needles Ltd",
    "diameter_mm": "0.25",
    "length_mm": "30",
    "expires_on": "2030-03-31",
    "quantity_received": "1000",
    "received_on": "2026-02-01",
}


class TestLots:
    def test_a_practitioner_adds_a_lot_and_the_list_says_it_is_usable(self, physio: User) -> None:
        client = signed_in(physio)
        response = client.post(reverse("stock_lot_new"), LOT_FORM)
        assert response.status_code == 302
        lot = NeedleLot.objects.get(lot_number="K-2291")
        assert lot.size_label == "0.25 x 30 mm"
        page = client.get(reverse("stock_lots")).content.decode()
        assert "K-2291" in page and "Usable" in page
        assert AuditEvent.objects.filter(
            object_type="needle_lot", object_id=str(lot.pk), action="create"
        ).exists()

    def test_a_bad_lot_form_says_what_is_wrong_and_keeps_what_was_typed(self, physio: User) -> None:
        data = {**LOT_FORM, "quantity_received": "0", "expires_on": "2025-01-01"}
        response = signed_in(physio).post(reverse("stock_lot_new"), data)
        assert response.status_code == 400
        page = response.content.decode()
        assert "at least one" in page
        assert "cannot be before the day it was received" in page
        assert 'value="K-2291"' in page
        assert not NeedleLot.objects.exists()

    def test_a_lot_already_in_stock_is_refused_in_plain_words(self, physio: User) -> None:
        make_lot("K-2291")
        response = signed_in(physio).post(reverse("stock_lot_new"), LOT_FORM)
        assert response.status_code == 400
        assert "already in stock" in response.content.decode()
        assert NeedleLot.objects.count() == 1

    def test_the_front_desk_may_read_the_stock_but_not_add_to_it(self, front_desk: User) -> None:
        make_lot("DESK-1")
        client = signed_in(front_desk)
        page = client.get(reverse("stock_lots")).content.decode()
        assert "DESK-1" in page
        assert "Patients needled" not in page
        assert client.post(reverse("stock_lot_new"), LOT_FORM).status_code == 403
        assert not NeedleLot.objects.filter(lot_number="K-2291").exists()

    def test_the_list_says_expired_and_recalled_in_words(self, owner: User) -> None:
        make_lot("OLD-1", expires_on=dt.date(2020, 1, 1), received_on=dt.date(2019, 1, 1))
        make_lot("BAD-1", recalled_at=timezone.now(), recall_reason="Maker's notice")
        page = signed_in(owner).get(reverse("stock_lots")).content.decode()
        assert "Expired" in page and "Recalled" in page


class TestRecall:
    def test_a_recall_stops_the_lot_being_used_and_is_audited(self, owner: User) -> None:
        lot = make_lot("R-7")
        today = timezone.localdate()
        assert lot in usable_lots(today)
        response = signed_in(owner).post(
            reverse("stock_lot_recall", args=[lot.pk]), {"reason": "Maker's recall notice 44"}
        )
        assert response.status_code == 302
        lot.refresh_from_db()
        assert lot.recalled_at is not None and lot.recall_reason == "Maker's recall notice 44"
        assert lot not in usable_lots(today)
        event = AuditEvent.objects.get(object_type="needle_lot", object_id=str(lot.pk))
        assert event.action == "update"
        assert event.detail["recalled"] is True
        assert event.actor_email == owner.email

    def test_a_recall_without_a_reason_changes_nothing(self, owner: User) -> None:
        lot = make_lot("R-8")
        response = signed_in(owner).post(reverse("stock_lot_recall", args=[lot.pk]), {})
        assert response.status_code == 400
        assert "Say why" in response.content.decode()
        lot.refresh_from_db()
        assert lot.recalled_at is None

    def test_a_lot_cannot_be_recalled_twice(self, owner: User) -> None:
        lot = make_lot("R-9")
        needle_lot_recall(lot=lot, reason="First", actor=owner)
        with pytest.raises(StockRefused):
            needle_lot_recall(lot=lot, reason="Second", actor=owner)
        lot.refresh_from_db()
        assert lot.recall_reason == "First"


class TestLotPatients:
    @pytest.fixture
    def exposure(
        self, patient: Patient, other_patient: Patient, physio: User, other_physio: User
    ) -> dict[str, Any]:
        """Lot X used on the patient (signed) and another patient (draft); lot Y on a third."""
        lot_x = make_lot("X-1")
        lot_y = make_lot("Y-1")
        third = Patient.objects.create(
            given_name="Thea", family_name="Third", date_of_birth=dt.date(1990, 3, 3)
        )
        other_patient.care_team.add(other_physio.practitioner)
        third.care_team.add(physio.practitioner)
        needling_session(patient, physio, lots=[lot_x, lot_y])
        needling_session(patient, physio, lots=[lot_x])
        needling_session(other_patient, other_physio, lots=[lot_x], signed=False)
        needling_session(third, physio, lots=[lot_y])
        return {"x": lot_x, "third": third}

    def test_the_owner_sees_exactly_the_patients_needled_with_the_lot(
        self, owner: User, exposure: dict[str, Any], patient: Patient, other_patient: Patient
    ) -> None:
        lot = exposure["x"]
        response = signed_in(owner).get(reverse("stock_lot_patients", args=[lot.pk]))
        page = response.content.decode()
        assert response.status_code == 200
        assert "Pat Ient" in page and "Otto Osborne" in page
        assert "Thea Third" not in page
        assert "1 not yet signed" in page
        assert "no-store" in response["Cache-Control"]
        event = AuditEvent.objects.get(object_type="needle_lot_patients")
        assert event.action == "view"
        assert sorted(event.detail["shown"]) == sorted([patient.pk, other_patient.pk])

    def test_the_csv_lists_the_same_patients_with_their_sessions(
        self, owner: User, exposure: dict[str, Any]
    ) -> None:
        lot = exposure["x"]
        response = signed_in(owner).get(reverse("stock_lot_patients_csv", args=[lot.pk]))
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/csv")
        assert "no-store" in response["Cache-Control"]
        rows = list(csv.reader(io.StringIO(response.content.decode())))
        by_name = {row[0]: row for row in rows[1:]}
        assert set(by_name) == {"Pat Ient", "Otto Osborne"}
        assert by_name["Pat Ient"][4:7] == ["2", "0", "6"]  # two sessions, both signed, 3+3
        assert by_name["Otto Osborne"][4:6] == ["1", "1"]
        assert AuditEvent.objects.filter(
            object_type="needle_lot_patients", action="export"
        ).exists()

    def test_a_practitioner_sees_only_their_care_teams_patients_and_a_count_of_the_rest(
        self, physio: User, exposure: dict[str, Any]
    ) -> None:
        lot = exposure["x"]
        page = signed_in(physio).get(reverse("stock_lot_patients", args=[lot.pk])).content.decode()
        assert "Pat Ient" in page
        assert "Otto Osborne" not in page
        assert "1 more patient was needled with this lot outside your care team" in page

    def test_the_front_desk_is_refused_and_the_refusal_is_logged(
        self, front_desk: User, exposure: dict[str, Any]
    ) -> None:
        lot = exposure["x"]
        client = signed_in(front_desk)
        assert client.get(reverse("stock_lot_patients", args=[lot.pk])).status_code == 403
        assert client.get(reverse("stock_lot_patients_csv", args=[lot.pk])).status_code == 403
        assert (
            AuditEvent.objects.filter(object_type="needle_lot_patients", outcome="denied").count()
            == 2
        )

    def test_the_page_takes_the_same_number_of_queries_for_many_patients(
        self, owner: User, physio: User, django_assert_max_num_queries: object
    ) -> None:
        lot = make_lot("BULK")
        for n in range(12):
            person = Patient.objects.create(
                given_name=f"Bulk{n}", family_name="Person", date_of_birth=dt.date(1970, 1, 1)
            )
            needling_session(person, physio, lots=[lot])
        client = signed_in(owner)
        with django_assert_max_num_queries(20):  # type: ignore[operator]
            response = client.get(reverse("stock_lot_patients", args=[lot.pk]))
        assert response.content.decode().count("Person</a>") == 12


class TestSharps:
    def test_a_container_goes_from_open_to_sealed_to_collected_with_an_audit_row_each(
        self, physio: User, location: Location
    ) -> None:
        container = sharps_container_open(label="S-14", location=location, actor=physio)
        sharps_container_seal(container=container, actor=physio)
        sharps_container_collect(
            container=container,
            collected_by_name="Dana Driver",
            collected_by_company="Clean Sharps Co",
            actor=physio,
        )
        container.refresh_from_db()
        assert container.stage == "collected"
        events = AuditEvent.objects.filter(object_type="sharps_container").order_by("id")
        assert [e.detail["event"] for e in events] == ["opened", "sealed", "collected"]

    def test_a_container_cannot_be_collected_before_it_is_sealed(
        self, physio: User, location: Location
    ) -> None:
        container = sharps_container_open(label="S-15", location=location, actor=physio)
        with pytest.raises(StockRefused, match="Seal the container"):
            sharps_container_collect(container=container, collected_by_name="Dana", actor=physio)
        container.refresh_from_db()
        assert container.collected_at is None

    def test_a_container_cannot_be_sealed_before_it_was_opened_or_twice(
        self, physio: User, location: Location
    ) -> None:
        container = sharps_container_open(label="S-16", location=location, actor=physio)
        with pytest.raises(StockRefused, match="before it was opened"):
            sharps_container_seal(
                container=container, actor=physio, now=container.opened_at - dt.timedelta(hours=1)
            )
        sharps_container_seal(container=container, actor=physio)
        with pytest.raises(StockRefused, match="already sealed"):
            sharps_container_seal(container=container, actor=physio)

    def test_the_database_refuses_a_collection_without_a_seal(
        self, physio: User, location: Location
    ) -> None:
        from django.db import IntegrityError, transaction

        with pytest.raises(IntegrityError), transaction.atomic():
            SharpsContainer.objects.create(
                label="S-X",
                location=location,
                opened_at=timezone.now(),
                opened_by=physio,
                collected_at=timezone.now(),
                collected_by_name="Dana",
            )

    def test_the_log_page_opens_seals_and_collects_through_its_buttons(
        self, owner: User, location: Location
    ) -> None:
        client = signed_in(owner)
        response = client.post(
            reverse("sharps_log"),
            {"label": "S-20", "location": location.pk, "notes": ""},
        )
        assert response.status_code == 302
        container = SharpsContainer.objects.get(label="S-20")
        page = client.get(reverse("sharps_log")).content.decode()
        assert "Open, in use" in page and "Seal S-20" in page
        client.post(reverse("sharps_seal", args=[container.pk]))
        page = client.get(reverse("sharps_log")).content.decode()
        assert "Sealed, waiting for collection" in page
        bad = client.post(reverse("sharps_collect", args=[container.pk]), {"name": ""})
        assert bad.status_code == 400
        assert "Write the name" in bad.content.decode()
        client.post(
            reverse("sharps_collect", args=[container.pk]),
            {"name": "Dana Driver", "company": "Clean Sharps Co"},
        )
        container.refresh_from_db()
        assert container.stage == "collected"
        assert container.collected_by_company == "Clean Sharps Co"

    def test_the_front_desk_reads_the_log_but_cannot_change_it(
        self, front_desk: User, physio: User, location: Location
    ) -> None:
        container = sharps_container_open(label="S-30", location=location, actor=physio)
        client = signed_in(front_desk)
        page = client.get(reverse("sharps_log")).content.decode()
        assert "S-30" in page and "Seal S-30" not in page
        assert client.post(reverse("sharps_seal", args=[container.pk])).status_code == 403
        assert (
            client.post(
                reverse("sharps_log"), {"label": "S-31", "location": location.pk}
            ).status_code
            == 403
        )
        container.refresh_from_db()
        assert container.sealed_at is None


def test_sizes_are_compared_as_decimals() -> None:
    assert NeedleLot(diameter_mm=Decimal("0.16"), length_mm=15).size_label == "0.16 x 15 mm"
