"""Needle lots: which ones may be used on a given day, and what a lot refuses to be."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from imsclinic.clinic.models import NeedleLot
from imsclinic.clinic.selectors import usable_lots
from imsclinic.clinic.tests.needling import make_lot

DAY = dt.date(2026, 6, 15)


@pytest.mark.django_db
def test_a_lot_in_date_and_not_recalled_is_usable() -> None:
    lot = make_lot()
    assert list(usable_lots(DAY)) == [lot]


@pytest.mark.django_db
def test_an_expired_lot_is_not_usable() -> None:
    make_lot("OLD", expires_on=DAY - dt.timedelta(days=1))
    assert list(usable_lots(DAY)) == []


@pytest.mark.django_db
def test_a_lot_is_still_usable_on_its_expiry_date() -> None:
    lot = make_lot("EDGE", expires_on=DAY)
    assert list(usable_lots(DAY)) == [lot]
    assert list(usable_lots(DAY + dt.timedelta(days=1))) == []


@pytest.mark.django_db
def test_a_recalled_lot_is_not_usable_even_before_its_expiry() -> None:
    make_lot("BAD", recalled_at=timezone.now(), recall_reason="Packaging breach")
    assert list(usable_lots(DAY)) == []


def test_the_size_label_reads_like_the_box() -> None:
    lot = NeedleLot(diameter_mm=Decimal("0.3"), length_mm=40)
    assert lot.size_label == "0.30 x 40 mm"


def test_clean_refuses_zero_sizes_and_quantities_with_a_message_per_field() -> None:
    lot = NeedleLot(
        lot_number="Z",
        manufacturer="M",
        diameter_mm=Decimal("0"),
        length_mm=0,
        quantity_received=0,
        expires_on=dt.date(2026, 1, 1),
        received_on=dt.date(2026, 2, 1),
    )
    with pytest.raises(ValidationError) as caught:
        lot.clean()
    assert set(caught.value.message_dict) == {
        "diameter_mm",
        "length_mm",
        "quantity_received",
        "expires_on",
    }


@pytest.mark.django_db
def test_the_database_refuses_a_zero_quantity() -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        make_lot("Q0", quantity_received=0)


@pytest.mark.django_db
def test_the_database_refuses_a_recall_without_a_reason() -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        make_lot("R0", recalled_at=timezone.now(), recall_reason="")


@pytest.mark.django_db
def test_the_same_lot_number_from_the_same_maker_is_refused() -> None:
    make_lot("DUP")
    with pytest.raises(IntegrityError), transaction.atomic():
        make_lot("DUP")


@pytest.mark.django_db
def test_the_demo_stock_has_lots_in_every_state_and_is_made_once(physio, owner, location) -> None:
    from imsclinic.clinic.selectors import stock_by_size, stock_overview
    from imsclinic.demo.clinic import seed_needle_stock

    made = seed_needle_stock(staff=physio, locations=[location], owner=owner)
    assert made == {"needle lots": 5, "low-stock levels": 3, "sharps containers": 2}
    today = timezone.localdate()
    statuses = sorted(lot.status_on(today) for lot in NeedleLot.objects.all())
    assert statuses == ["expired", "recalled", "usable", "usable", "usable"]
    assert usable_lots(today).count() == 3
    low = [size.size_label for size in stock_by_size(stock_overview(today)) if size.is_low]
    assert low == ["0.30 x 60 mm"]
    assert seed_needle_stock(staff=physio, locations=[location], owner=owner) == {
        "needle lots": 0,
        "low-stock levels": 0,
        "sharps containers": 0,
    }
