"""The demo clinic shows follow-up in every state, and seeding twice adds nothing."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from imsclinic.followup.models import CheckIn, CheckInStatus, RedFlagAlert
from imsclinic.followup.selectors import open_alerts_for, unanswered_checkins
from imsclinic.safety.models import AdverseEvent, EventStatus

pytestmark = pytest.mark.django_db


def test_the_demo_has_an_answered_an_unanswered_and_a_red_flag_checkin() -> None:
    call_command("seed_demo", stdout=io.StringIO())
    call_command("seed_demo", stdout=io.StringIO())
    statuses = sorted(CheckIn.objects.values_list("status", "red_flag"))
    assert statuses == [
        (CheckInStatus.ANSWERED, False),
        (CheckInStatus.ANSWERED, True),
        (CheckInStatus.SENT, False),
    ]
    assert unanswered_checkins().count() == 1
    alert = RedFlagAlert.objects.get()
    assert alert.practitioner.email == "physio@cedarims.test"
    assert list(open_alerts_for(alert.practitioner)) == [alert]
    assert AdverseEvent.objects.filter(status=EventStatus.DRAFT).count() == 1
