"""The follow-up list reads the same number of queries however many check-ins it shows."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from imsclinic.accounts.models import User
from imsclinic.clinic.tests.needling import make_lot, needling_session
from imsclinic.core.models import AuditEvent
from imsclinic.followup.models import CheckIn, CheckInStatus, RedFlagAlert
from tests.factories.clients import signed_in
from tests.factories.people import many_patients

pytestmark = pytest.mark.django_db

SIZES = [10, 100]


def checkins_of_many_patients(count: int, physio: User) -> None:
    """One check-in after a signed session for each of `count` patients on the physio's team.

    Two in three are still unanswered; the others were answered, every other one with a red
    flag nobody has acknowledged yet.
    """
    now = timezone.now()
    lot = make_lot("FU-1")
    patients = many_patients(count, "Followed")
    for n, patient in enumerate(patients):
        patient.care_team.add(physio.practitioner)  # type: ignore[attr-defined]
        session = needling_session(
            patient, physio, lots=[lot], start=now - dt.timedelta(days=3, hours=n)
        )
        fields: dict[str, Any] = {
            "due_at": now - dt.timedelta(hours=50),
            "sent_at": now - dt.timedelta(hours=50),
        }
        answered = n % 3 == 0
        if answered:
            fields.update(
                answered_at=now - dt.timedelta(hours=2),
                soreness=4,
                breathless_or_chest_pain=n % 2 == 0,
                site_infection_signs=False,
                site_swelling_or_pus=False,
                numbness_or_weakness=False,
                fainted=False,
            )
        checkin = CheckIn.objects.create(
            session=session,
            patient=patient,
            practitioner=physio,
            status=CheckInStatus.ANSWERED if answered else CheckInStatus.SENT,
            **fields,
        )
        if answered and n % 2 == 0:
            RedFlagAlert.objects.create(checkin=checkin, patient=patient, practitioner=physio)


# Session, user, MFA, the clinic for the header, the red-flag banner, the check-ins to
# phone, the answer window, the audit rows (one INSERT for every patient shown).
@pytest.mark.parametrize("count", SIZES)
def test_the_front_desks_call_list_reads_the_same_number_of_queries_for_10_as_for_100(
    count: int, physio: User, front_desk: User, django_assert_num_queries
) -> None:
    checkins_of_many_patients(count, physio)
    client = signed_in(front_desk)
    with django_assert_num_queries(9):
        response = client.get(reverse("followup_list"))
    assert response.status_code == 200
    unanswered = count - len(range(0, count, 3))
    assert response.content.decode().count("/phoned/") == unanswered
    assert AuditEvent.objects.filter(object_type="followup_list", actor=front_desk).count() == (
        unanswered
    )


# The same, with the open red flags and the answers of the last week a clinician also sees.
@pytest.mark.parametrize("count", SIZES)
def test_a_practitioners_follow_up_list_reads_the_same_number_of_queries_for_10_as_for_100(
    count: int, physio: User, django_assert_num_queries
) -> None:
    checkins_of_many_patients(count, physio)
    client = signed_in(physio)
    with django_assert_num_queries(12):
        response = client.get(reverse("followup_list"))
    assert response.status_code == 200
    assert AuditEvent.objects.filter(object_type="followup_list", actor=physio).count() == count
