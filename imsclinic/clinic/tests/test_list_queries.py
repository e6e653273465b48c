"""The needle stock pages read the same number of queries however many lots or containers."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from imsclinic.accounts.models import User
from imsclinic.clinic.models import Location, NeedleLot, SharpsContainer
from imsclinic.clinic.tests.needling import make_lot, needling_session
from tests.factories.clients import signed_in
from tests.factories.people import many_patients

pytestmark = pytest.mark.django_db

SIZES = [10, 100]


def many_lots(count: int) -> None:
    """Lots of ten different sizes, every third one recalled."""
    today = timezone.localdate()
    NeedleLot.objects.bulk_create(
        NeedleLot(
            lot_number=f"BULK-{n}",
            manufacturer="Synthetic Needles Ltd",
            diameter_mm=Decimal("0.16") + Decimal("0.02") * (n % 10),
            length_mm=30,
            expires_on=today + dt.timedelta(days=400),
            quantity_received=100,
            quantity_on_hand=100 - n % 7,
            received_on=today - dt.timedelta(days=n),
            recalled_at=timezone.now() if n % 3 == 0 else None,
            recall_reason="Sterility breach reported by the maker." if n % 3 == 0 else "",
        )
        for n in range(count)
    )


# Session, user, MFA, the clinic for the header, the lots with their use, the low-stock
# levels, the weekly use.
@pytest.mark.parametrize("count", SIZES)
def test_the_stock_list_reads_the_same_number_of_queries_for_10_lots_as_for_100(
    count: int, physio: User, django_assert_num_queries
) -> None:
    many_lots(count)
    client = signed_in(physio)
    with django_assert_num_queries(9):
        response = client.get(reverse("stock_lots"))
    assert response.status_code == 200
    assert response.content.decode().count("BULK-") >= count


@pytest.mark.parametrize("count", SIZES)
def test_the_stock_levels_page_reads_the_same_number_of_queries_for_10_lots_as_for_100(
    count: int, owner: User, django_assert_num_queries
) -> None:
    many_lots(count)
    client = signed_in(owner)
    with django_assert_num_queries(7):
        response = client.get(reverse("stock_levels"))
    assert response.status_code == 200
    assert "0.34 x 30 mm" in response.content.decode()


@pytest.mark.parametrize("count", SIZES)
def test_the_sharps_log_reads_the_same_number_of_queries_for_10_containers_as_for_100(
    count: int, physio: User, owner: User, location: Location, django_assert_num_queries
) -> None:
    now = timezone.now()
    SharpsContainer.objects.bulk_create(
        SharpsContainer(
            label=f"S-{n:03d}",
            location=location,
            opened_at=now - dt.timedelta(days=2 * n + 2),
            opened_by=physio,
            sealed_at=now - dt.timedelta(days=2 * n + 1) if n else None,
            sealed_by=owner if n else None,
            collected_at=now - dt.timedelta(days=2 * n) if n % 2 else None,
            collected_by_name="Pat Pickup" if n % 2 else "",
        )
        for n in range(count)
    )
    client = signed_in(owner)
    with django_assert_num_queries(9):
        response = client.get(reverse("sharps_log"))
    assert response.status_code == 200
    assert response.content.decode().count('<th scope="row">S-') == count


def patients_needled_with(count: int, physio: User) -> NeedleLot:
    lot = make_lot("TRACE-1")
    for patient in many_patients(count, "Traced"):
        needling_session(patient, physio, lots=[lot], signed=bool(patient.pk % 2))
    return lot


# Session, user, MFA, the clinic for the header, the lot, the patients with their
# sessions, the audit row.
@pytest.mark.parametrize("count", SIZES)
def test_a_lots_patients_read_the_same_number_of_queries_for_10_patients_as_for_100(
    count: int, physio: User, owner: User, django_assert_num_queries
) -> None:
    lot = patients_needled_with(count, physio)
    client = signed_in(owner)
    with django_assert_num_queries(9):
        response = client.get(reverse("stock_lot_patients", args=[lot.pk]))
    assert response.status_code == 200
    assert response.content.decode().count("Traced</a>") == count


@pytest.mark.parametrize("count", SIZES)
def test_a_lots_patients_as_csv_read_the_same_number_of_queries_for_10_patients_as_for_100(
    count: int, physio: User, owner: User, django_assert_num_queries
) -> None:
    lot = patients_needled_with(count, physio)
    client = signed_in(owner)
    with django_assert_num_queries(7):
        response = client.get(reverse("stock_lot_patients_csv", args=[lot.pk]))
    assert response.status_code == 200
    assert response.content.decode().count("Traced") == count
