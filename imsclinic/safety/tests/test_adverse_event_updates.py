"""Follow-up updates on adverse events: append-only, severity only upwards, owner told."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from imsclinic.accounts.models import User
from imsclinic.core.models import AuditEvent
from imsclinic.patients.models import Patient
from imsclinic.safety.errors import AdverseEventRefused
from imsclinic.safety.models import AdverseEvent, AdverseEventUpdate, AdverseEventUpdateIsFinal
from imsclinic.safety.selectors import adverse_event_alerts
from imsclinic.safety.services import (
    adverse_event_acknowledge,
    adverse_event_draft_open,
    adverse_event_record,
    adverse_event_update_add,
)
from imsclinic.safety.tasks import alert_owner_of_adverse_event
from tests.factories.clients import signed_in

pytestmark = pytest.mark.django_db

ALERT_TASK = "imsclinic.safety.tasks.alert_owner_of_adverse_event"


def record(patient: Patient, actor: User, **extra: Any) -> AdverseEvent:
    fields: dict[str, Any] = {
        "event_type": "infection",
        "severity": "mild",
        "onset": timezone.now() - dt.timedelta(days=2),
        "action_taken": "Cleaned the site; advice given.",
        "outcome": "Red and warm at the needle site.",
    }
    fields.update(extra)
    return adverse_event_record(patient=patient, actor=actor, **fields)


class TestAppendOnly:
    def test_it_adds_a_dated_update_with_its_author_and_audits_it(
        self, patient: Patient, physio: User
    ) -> None:
        event = record(patient, physio)
        when = timezone.now() - dt.timedelta(hours=1)
        update = adverse_event_update_add(
            event=event, outcome="  Resolved after 3 days.  ", actor=physio, now=when
        )
        assert (update.outcome, update.author, update.written_at) == (
            "Resolved after 3 days.",
            physio,
            when,
        )
        event.refresh_from_db()
        assert event.outcome == "Red and warm at the needle site."  # as known when recorded
        assert event.severity == "mild"
        row = AuditEvent.objects.get(object_type="adverse_event_update", action="create")
        assert row.patient_id == patient.pk and row.detail == {"event": event.pk}

    def test_an_update_is_never_changed_or_deleted(self, patient: Patient, physio: User) -> None:
        event = record(patient, physio)
        update = adverse_event_update_add(event=event, outcome="Settling.", actor=physio)
        update.outcome = "Something else"
        with pytest.raises(AdverseEventUpdateIsFinal):
            update.save()
        with pytest.raises(AdverseEventUpdateIsFinal):
            update.delete()
        with pytest.raises(AdverseEventUpdateIsFinal):
            AdverseEventUpdate.objects.filter(pk=update.pk).update(outcome="x")
        with pytest.raises(AdverseEventUpdateIsFinal):
            AdverseEventUpdate.objects.all().delete()
        assert AdverseEventUpdate.objects.get().outcome == "Settling."

    def test_it_refuses_an_empty_or_overlong_outcome(self, patient: Patient, physio: User) -> None:
        event = record(patient, physio)
        for outcome in ("   ", "x" * 4001):
            with pytest.raises(AdverseEventRefused) as refused:
                adverse_event_update_add(event=event, outcome=outcome, actor=physio)
            assert refused.value.field == "outcome"
        assert not AdverseEventUpdate.objects.exists()

    def test_a_draft_must_be_completed_before_it_is_updated(
        self, patient: Patient, physio: User
    ) -> None:
        draft = adverse_event_draft_open(
            patient=patient,
            session=None,
            event_type="infection",
            onset=timezone.now(),
            description="Red, warm needle site.",
            practitioner=physio,
        )
        with pytest.raises(AdverseEventRefused):
            adverse_event_update_add(event=draft, outcome="Better.", actor=physio)
        assert not AdverseEventUpdate.objects.exists()


class TestSeverity:
    def test_severity_only_goes_up(self, patient: Patient, physio: User) -> None:
        event = record(patient, physio, severity="significant")
        with pytest.raises(AdverseEventRefused) as refused:
            adverse_event_update_add(
                event=event, outcome="Much better.", severity="mild", actor=physio
            )
        assert refused.value.field == "severity"
        event.refresh_from_db()
        assert event.severity == "significant"
        assert not AdverseEventUpdate.objects.exists()

    def test_the_database_refuses_a_downgrade_written_around_the_service(
        self, patient: Patient, physio: User
    ) -> None:
        event = record(patient, physio, severity="serious")
        with pytest.raises(IntegrityError), transaction.atomic():
            AdverseEventUpdate.objects.create(
                event=event, author=physio, outcome="x", severity_before="serious", severity="mild"
            )

    def test_the_same_severity_is_no_change(self, patient: Patient, physio: User) -> None:
        event = record(patient, physio)
        update = adverse_event_update_add(
            event=event, outcome="Still sore.", severity="mild", actor=physio
        )
        assert (update.severity, update.severity_before) == ("", "")

    def test_a_worse_severity_is_set_on_the_event_and_audited(
        self, patient: Patient, physio: User
    ) -> None:
        event = record(patient, physio)
        update = adverse_event_update_add(
            event=event, outcome="GP prescribed antibiotics.", severity="significant", actor=physio
        )
        assert (update.severity_before, update.severity) == ("mild", "significant")
        event.refresh_from_db()
        assert event.severity == "significant"
        changed = AuditEvent.objects.get(object_type="adverse_event", action="update")
        assert changed.detail["severity"] == "significant"
        assert changed.detail["severity_before"] == "mild"
        assert event.history.first().severity == "significant"

    def test_an_upgrade_to_significant_alerts_the_owner(
        self, patient: Patient, physio: User, owner: User
    ) -> None:
        event = record(patient, physio)
        adverse_event_update_add(
            event=event,
            outcome="GP prescribed antibiotics.",
            severity="significant",
            actor=physio,
        )
        assert DBTaskResult.objects.get(task_path=ALERT_TASK).args_kwargs["args"] == [event.pk]
        assert alert_owner_of_adverse_event.call(event.pk) == 1

    def test_a_significant_event_turning_serious_goes_back_before_the_owner(
        self, patient: Patient, physio: User, owner: User
    ) -> None:
        event = record(patient, physio, severity="significant")
        assert alert_owner_of_adverse_event.call(event.pk) == 1
        adverse_event_acknowledge(event=event, actor=owner)
        adverse_event_update_add(
            event=event, outcome="Admitted overnight.", severity="serious", actor=physio
        )
        # One alert queued when it was recorded, one more for the worse severity.
        assert DBTaskResult.objects.filter(task_path=ALERT_TASK).count() == 2
        event.refresh_from_db()
        assert event.severity == "serious"
        assert event.acknowledged_at is None
        assert event in adverse_event_alerts()
        assert alert_owner_of_adverse_event.call(event.pk) == 1

    def test_a_plain_update_of_an_alerting_event_alerts_no_one_again(
        self, patient: Patient, physio: User, owner: User
    ) -> None:
        event = record(patient, physio, severity="serious")
        assert DBTaskResult.objects.filter(task_path=ALERT_TASK).count() == 1
        adverse_event_update_add(event=event, outcome="Home again.", actor=physio)
        assert DBTaskResult.objects.filter(task_path=ALERT_TASK).count() == 1

    def test_an_update_without_a_worse_severity_alerts_no_one(
        self, patient: Patient, physio: User, owner: User
    ) -> None:
        event = record(patient, physio)
        adverse_event_update_add(event=event, outcome="Resolved.", actor=physio)
        assert not DBTaskResult.objects.filter(task_path=ALERT_TASK).exists()


class TestWhoMayUpdate:
    def test_the_front_desk_and_other_physios_are_refused_and_it_is_audited(
        self, patient: Patient, physio: User, front_desk: User, other_physio: User
    ) -> None:
        event = record(patient, physio)
        for outsider in (front_desk, other_physio):
            with pytest.raises(PermissionDenied):
                adverse_event_update_add(event=event, outcome="Resolved.", actor=outsider)
        assert not AdverseEventUpdate.objects.exists()
        denied = AuditEvent.objects.filter(object_type="adverse_event_update", outcome="denied")
        assert denied.count() == 2

    def test_the_owner_may_add_an_update(self, patient: Patient, physio: User, owner: User) -> None:
        event = record(patient, physio)
        assert adverse_event_update_add(event=event, outcome="Phoned: fine.", actor=owner)

    def test_the_page_refuses_the_front_desk_and_tells_other_physios_nothing(
        self, patient: Patient, physio: User, front_desk: User, other_physio: User
    ) -> None:
        event = record(patient, physio)
        url = reverse("adverse_event_update", args=[event.pk])
        assert signed_in(front_desk).post(url, {"outcome": "x"}).status_code == 403
        assert signed_in(other_physio).post(url, {"outcome": "x"}).status_code == 404
        assert not AdverseEventUpdate.objects.exists()


class TestPages:
    def test_the_form_adds_an_update_and_the_page_lists_them_oldest_first(
        self, patient: Patient, physio: User, owner: User
    ) -> None:
        event = record(patient, physio)
        adverse_event_update_add(
            event=event,
            outcome="Spreading redness.",
            actor=physio,
            now=timezone.now() - dt.timedelta(days=1),
        )
        client = signed_in(physio)
        response = client.post(
            reverse("adverse_event_update", args=[event.pk]),
            {"outcome": "GP prescribed antibiotics.", "severity": "significant"},
        )
        assert response.status_code == 302
        page = client.get(response["Location"]).content.decode()
        assert page.index("Spreading redness.") < page.index("GP prescribed antibiotics.")
        assert "Severity raised from" in page
        assert "The clinic owner is alerted." in page

    @pytest.mark.parametrize(
        ("before", "after"), [("mild", "significant"), ("significant", "serious")]
    )
    def test_raising_the_severity_says_the_clinic_owner_was_alerted(
        self, before: str, after: str, patient: Patient, physio: User, owner: User
    ) -> None:
        event = record(patient, physio, severity=before)
        client = signed_in(physio)
        url = reverse("adverse_event_update", args=[event.pk])
        raised = client.post(url, {"outcome": "Worse today.", "severity": after}, follow=True)
        said = [str(message) for message in raised.context["messages"]]
        assert said == ["Added the update. The clinic owner is alerted."]
        plain = client.post(url, {"outcome": "Phoned: no change."}, follow=True)
        assert [str(message) for message in plain.context["messages"]] == ["Added the update."]

    def test_a_bad_update_says_what_is_wrong_and_keeps_what_was_typed(
        self, patient: Patient, physio: User
    ) -> None:
        event = record(patient, physio, severity="significant")
        response = signed_in(physio).post(
            reverse("adverse_event_update", args=[event.pk]),
            {"outcome": "Feeling better, swelling down.", "severity": "mild"},
        )
        assert response.status_code == 400
        page = response.content.decode()
        assert "Severity only goes up" in page
        assert "Feeling better, swelling down." in page
        assert 'aria-describedby="id_severity_helptext id_severity_error"' in page
        assert not AdverseEventUpdate.objects.exists()

    def test_a_serious_event_offers_the_form_without_a_severity_choice(
        self, patient: Patient, physio: User
    ) -> None:
        event = record(patient, physio, severity="serious")
        page = signed_in(physio).get(reverse("adverse_event_detail", args=[event.pk]))
        text = page.content.decode()
        assert reverse("adverse_event_update", args=[event.pk]) in text
        assert 'name="severity"' not in text

    def test_the_severity_starts_unchanged(self, patient: Patient, physio: User) -> None:
        event = record(patient, physio)
        page = signed_in(physio).get(reverse("adverse_event_detail", args=[event.pk]))
        assert re.search(r'name="severity" value=""[^>]*checked', page.content.decode())

    def test_the_patients_list_shows_updates_in_a_fixed_number_of_queries(
        self, patient: Patient, physio: User, django_assert_max_num_queries: Any
    ) -> None:
        client = signed_in(physio)
        url = reverse("patient_adverse_events", args=[patient.pk])
        event = record(patient, physio)
        adverse_event_update_add(event=event, outcome="Update one.", actor=physio)
        client.get(url)  # warm up the session and the clinic caches
        with django_assert_max_num_queries(30) as one:
            client.get(url)
        for n in range(4):
            other = record(patient, physio, event_type="bruising")
            adverse_event_update_add(event=other, outcome=f"Faded {n}.", actor=physio)
        with django_assert_max_num_queries(len(one.captured_queries)):
            response = client.get(url)
        page = response.content.decode()
        assert "Update one." in page and "Faded 3." in page
