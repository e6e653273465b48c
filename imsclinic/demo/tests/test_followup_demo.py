"""The demo clinic shows follow-up in every state, and seeding twice adds nothing."""

from __future__ import annotations

import io
from collections import Counter

import pytest
from django.core.management import call_command

from imsclinic.charting.models import NeedlingSession, NoteStatus
from imsclinic.followup.models import CheckIn, CheckInStatus, RedFlagAlert
from imsclinic.followup.selectors import open_alerts_for, unanswered_checkins
from imsclinic.safety.models import AdverseEvent, EventStatus

pytestmark = pytest.mark.django_db


def test_every_demo_note_has_its_checkin_one_unanswered_and_one_red_flag() -> None:
    call_command("seed_demo", stdout=io.StringIO())
    call_command("seed_demo", stdout=io.StringIO())
    signed = NeedlingSession.objects.filter(status=NoteStatus.SIGNED)
    assert CheckIn.objects.count() == signed.count() > 3
    assert not signed.filter(checkin__isnull=True).exists()
    statuses = Counter(CheckIn.objects.values_list("status", "red_flag"))
    assert statuses == {
        (CheckInStatus.ANSWERED, False): signed.count() - 2,
        (CheckInStatus.ANSWERED, True): 1,
        (CheckInStatus.SENT, False): 1,
    }
    latest = CheckIn.objects.order_by("-session__appointment__start").first()
    assert latest is not None and latest.red_flag
    assert unanswered_checkins().count() == 1
    alert = RedFlagAlert.objects.get()
    assert alert.practitioner.email == "physio@cedarims.test"
    assert list(open_alerts_for(alert.practitioner)) == [alert]
    assert AdverseEvent.objects.filter(status=EventStatus.DRAFT).count() == 1
