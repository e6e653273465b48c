"""Adverse events: recording them, alerting the owner, who may see them, and the clinic report."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from imsclinic.accounts.models import User
from imsclinic.clinic.tests.needling import make_lot, needling_session
from imsclinic.core.models import AuditEvent
from imsclinic.core.roles import Role
from imsclinic.patients.models import Patient
from imsclinic.safety import ae_rates
from imsclinic.safety.errors import AdverseEventRefused
from imsclinic.safety.models import AdverseEvent
from imsclinic.safety.selectors import adverse_event_counts
from imsclinic.safety.services import adverse_event_acknowledge, adverse_event_record
from imsclinic.safety.tasks import alert_owner_of_adverse_event
from tests.factories import VANCOUVER
from tests.factories.clients import signed_in
from tests.factories.mail import MailServer
from tests.factories.people import make_user

pytestmark = pytest.mark.django_db

ALERT_TASK = "imsclinic.safety.tasks.alert_owner_of_adverse_event"


def record(patient: Patient, actor: User, **extra: Any) -> AdverseEvent:
    fields: dict[str, Any] = {
        "event_type": "bruising",
        "severity": "mild",
        "onset": timezone.now() - dt.timedelta(hours=2),
        "action_taken": "Ice and advice.",
    }
    fields.update(extra)
    return adverse_event_record(patient=patient, actor=actor, **fields)


class TestRecording:
    def test_a_care_team_physio_records_an_event_and_it_is_audited(
        self, patient: Patient, physio: User
    ) -> None:
        event = record(patient, physio, site="left upper back", outcome="Faded in 3 days")
        assert event.recorded_by == physio
        row = AuditEvent.objects.get(object_type="adverse_event", action="create")
        assert row.patient_id == patient.pk
        assert row.detail["severity"] == "mild"

    def test_a_physio_outside_the_care_team_and_the_front_desk_cannot_record(
        self, patient: Patient, other_physio: User, front_desk: User
    ) -> None:
        for outsider in (other_physio, front_desk):
            with pytest.raises(PermissionDenied):
                record(patient, outsider)
        assert not AdverseEvent.objects.exists()
        assert AuditEvent.objects.filter(object_type="adverse_event", outcome="denied").count() == 2

    def test_it_refuses_an_onset_in_the_future(self, patient: Patient, physio: User) -> None:
        with pytest.raises(AdverseEventRefused) as refused:
            record(patient, physio, onset=timezone.now() + dt.timedelta(days=1))
        assert refused.value.field == "onset"

    def test_it_refuses_another_patients_session(
        self, patient: Patient, other_patient: Patient, physio: User
    ) -> None:
        theirs = needling_session(other_patient, physio, lots=[make_lot()])
        with pytest.raises(AdverseEventRefused) as refused:
            record(patient, physio, session=theirs)
        assert refused.value.field == "session"
        assert not AdverseEvent.objects.exists()

    def test_other_needs_a_description(self, patient: Patient, physio: User) -> None:
        with pytest.raises(AdverseEventRefused) as refused:
            record(patient, physio, event_type="other")
        assert refused.value.field == "description"


class TestOwnerAlert:
    def test_a_significant_event_emails_each_owner_once(
        self, patient: Patient, physio: User, owner: User
    ) -> None:
        second_owner = make_user("co.owner@cedar.example", Role.OWNER)
        event = record(patient, physio, event_type="fainting", severity="significant")
        # The task row is written with the record, so it commits (or not) with it.
        queued = DBTaskResult.objects.get(task_path=ALERT_TASK)
        assert queued.args_kwargs["args"] == [event.pk]

        assert alert_owner_of_adverse_event.call(event.pk) == 2
        assert sorted(m.to[0] for m in mail.outbox) == sorted([owner.email, second_owner.email])
        message = mail.outbox[0]
        for private in ("Pat", "Ient", "faint", "significant", "Significant"):
            assert private not in message.subject
            assert private not in message.body
        assert reverse("adverse_event_detail", args=[event.pk]) in message.body
        # A second run (a retry, a second worker) sends nothing more.
        assert alert_owner_of_adverse_event.call(event.pk) == 0
        assert len(mail.outbox) == 2

    def test_with_the_mail_server_down_the_alert_is_tried_again_later(
        self, patient: Patient, physio: User, owner: User, mail_server: MailServer
    ) -> None:
        event = record(patient, physio, severity="serious")
        mail_server.down()
        assert alert_owner_of_adverse_event.call(event.pk) == 0
        event.refresh_from_db()
        assert event.owner_alerted_at is None
        retry = DBTaskResult.objects.filter(task_path=ALERT_TASK).order_by("-enqueued_at")[0]
        assert retry.run_after is not None and retry.run_after > timezone.now()

        mail_server.back_up()
        assert alert_owner_of_adverse_event.call(event.pk) == 1
        assert [message.to for message in mail.outbox] == [[owner.email]]

    def test_a_mild_event_alerts_no_one(self, patient: Patient, physio: User, owner: User) -> None:
        event = record(patient, physio)
        assert not DBTaskResult.objects.exists()
        assert alert_owner_of_adverse_event.call(event.pk) == 0
        assert mail.outbox == []

    def test_the_owner_sees_a_banner_until_acknowledging(
        self, patient: Patient, physio: User, owner: User
    ) -> None:
        serious = record(patient, physio, event_type="pneumothorax", severity="serious")
        record(patient, physio)  # mild: never in the banner
        client = signed_in(owner)
        page = client.get(reverse("patient_list")).content.decode()
        assert "1 adverse event needs your review" in page
        assert reverse("adverse_event_detail", args=[serious.pk]) in page
        assert (
            "needs your review"
            not in signed_in(physio).get(reverse("patient_list")).content.decode()
        )

        response = client.post(
            reverse("adverse_event_acknowledge", args=[serious.pk]),
            {"next": reverse("patient_list")},
        )
        assert response.status_code == 302 and response["Location"] == reverse("patient_list")
        serious.refresh_from_db()
        assert serious.acknowledged_by == owner and serious.acknowledged_at is not None
        assert "needs your review" not in client.get(reverse("patient_list")).content.decode()
        assert AuditEvent.objects.filter(
            object_type="adverse_event", object_id=str(serious.pk), action="update"
        ).exists()

    def test_only_the_owner_acknowledges(self, patient: Patient, physio: User) -> None:
        event = record(patient, physio, severity="significant", event_type="infection")
        with pytest.raises(PermissionDenied):
            adverse_event_acknowledge(event=event, actor=physio)
        response = signed_in(physio).post(reverse("adverse_event_acknowledge", args=[event.pk]))
        assert response.status_code == 403
        event.refresh_from_db()
        assert event.acknowledged_at is None


class TestPages:
    def test_the_form_records_an_event_tied_to_the_chosen_session(
        self, patient: Patient, physio: User
    ) -> None:
        session = needling_session(patient, physio, lots=[make_lot()])
        client = signed_in(physio)
        url = reverse("adverse_event_new", args=[patient.pk])
        page = client.get(url, {"session": session.pk}).content.decode()
        assert f'<option value="{session.pk}" selected>' in page
        # Typed as the clinic's wall-clock time (the location is in Vancouver).
        onset = timezone.now().astimezone(VANCOUVER).strftime("%Y-%m-%dT%H:%M")
        response = client.post(
            url,
            {
                "session": session.pk,
                "event_type": "bleeding",
                "severity": "mild",
                "onset": onset,
                "site": "right gluteal",
                "action_taken": "Pressure for a minute.",
            },
        )
        assert response.status_code == 302
        event = AdverseEvent.objects.get()
        assert event.session == session
        assert abs(event.onset - timezone.now()) < dt.timedelta(minutes=2)
        detail = client.get(response["Location"]).content.decode()
        assert "Bleeding" in detail and "right gluteal" in detail

    def test_a_bad_form_says_what_is_wrong_and_keeps_what_was_typed(
        self, patient: Patient, physio: User
    ) -> None:
        response = signed_in(physio).post(
            reverse("adverse_event_new", args=[patient.pk]),
            {
                "event_type": "other",
                "severity": "mild",
                "onset": "2020-01-01T10:00",
                "site": "left calf",
                "action_taken": "Rest.",
            },
        )
        assert response.status_code == 400
        page = response.content.decode()
        assert "Describe what happened" in page
        assert 'value="left calf"' in page
        assert not AdverseEvent.objects.exists()

    def test_the_front_desk_never_sees_adverse_events_and_outsiders_are_told_nothing(
        self, patient: Patient, physio: User, front_desk: User, other_physio: User
    ) -> None:
        event = record(patient, physio)
        for url in (
            reverse("patient_adverse_events", args=[patient.pk]),
            reverse("adverse_event_detail", args=[event.pk]),
        ):
            assert signed_in(front_desk).get(url).status_code == 403
            assert signed_in(other_physio).get(url).status_code == 404

    def test_the_list_is_audited_as_a_view_of_health_information(
        self, patient: Patient, physio: User
    ) -> None:
        event = record(patient, physio)
        response = signed_in(physio).get(reverse("patient_adverse_events", args=[patient.pk]))
        assert "Bruising" in response.content.decode()
        assert "no-store" in response["Cache-Control"]
        row = AuditEvent.objects.get(object_type="adverse_events", action="view")
        assert row.patient_id == patient.pk and row.detail["shown"] == [event.pk]


class TestReport:
    @pytest.fixture
    def clinic_history(self, patient: Patient, other_patient: Patient, physio: User) -> None:
        """8 signed sessions, 1 draft; 4 events on signed sessions, 1 on the draft, 1 unlinked.

        By hand: 4 events / 8 sessions = 50.00 per 100; 3 sessions with an event = 37.50%;
        mild 3 = 37.50; significant 1 = 12.50; serious 0 (too few sessions for an upper bound);
        bruising 2 = 25.00; bleeding 1 = 12.50; fainting 1 = 12.50; 2 events not counted.
        """
        lot = make_lot()
        signed = [needling_session(patient, physio, lots=[lot]) for _ in range(8)]
        draft = needling_session(patient, physio, lots=[lot], signed=False)
        onset = timezone.now()
        record(patient, physio, session=signed[0], onset=onset)
        record(patient, physio, session=signed[0], event_type="bleeding", onset=onset)
        record(patient, physio, session=signed[1], onset=onset)
        record(
            patient,
            physio,
            session=signed[2],
            event_type="fainting",
            severity="significant",
            onset=onset,
        )
        record(patient, physio, session=draft, event_type="headache", onset=onset)
        record(patient, physio, event_type="nausea", onset=onset)

    def test_the_counts_behind_the_report(self, clinic_history: None) -> None:
        counts = adverse_event_counts()
        assert counts.sessions == 8
        assert counts.sessions_with_event == 3
        assert counts.by_severity == {"mild": 3, "significant": 1}
        assert counts.by_type == {"bruising": 2, "bleeding": 1, "fainting": 1}
        assert counts.not_counted == 2

    def test_the_report_page_shows_hand_computed_rates_and_the_sources(
        self, clinic_history: None, owner: User
    ) -> None:
        response = signed_in(owner).get(reverse("adverse_event_report"))
        assert response.status_code == 200
        page = response.content.decode()
        assert "Denominator: 8 signed needling sessions." in page
        assert "4 adverse events linked to them (50.00 per 100 sessions)." in page
        assert "3 sessions had at least one (37.50%)." in page
        assert "2 events in this period are not linked to a signed session" in page
        assert "Brady et al. 2014" in page and "Boyce et al. 2020" in page
        assert "7,629 treatments" in page and "20,464 sessions" in page
        assert "95% upper bound" not in page  # 8 sessions are too few for one
        assert AuditEvent.objects.filter(object_type="adverse_event_report").exists()

    def test_a_period_with_no_sessions_gives_no_rates(
        self, clinic_history: None, owner: User
    ) -> None:
        page = (
            signed_in(owner)
            .get(reverse("adverse_event_report"), {"since": "2001-01-01", "until": "2001-12-31"})
            .content.decode()
        )
        assert "Denominator: 0 signed needling sessions." in page
        assert "No rates can be given" in page

    def test_a_period_ending_before_it_starts_is_refused(self, owner: User) -> None:
        response = signed_in(owner).get(
            reverse("adverse_event_report"), {"since": "2026-02-01", "until": "2026-01-01"}
        )
        assert response.status_code == 400
        assert "on or after its start" in response.content.decode()


class TestRates:
    def test_rates_are_per_hundred_sessions_rounded_half_up(self) -> None:
        assert ae_rates.percent(1, 3) == Decimal("33.33")
        assert ae_rates.percent(2, 3) == Decimal("66.67")
        assert ae_rates.percent(1, 8) == Decimal("12.50")
        assert ae_rates.percent(1, 0) is None

    def test_the_rule_of_three_gives_bradys_published_upper_bound(self) -> None:
        assert ae_rates.upper_bound_when_none(ae_rates.BRADY_2014.denominator) == Decimal("0.04")

    def test_no_upper_bound_is_given_below_thirty_sessions(self) -> None:
        assert ae_rates.upper_bound_when_none(29) is None
        assert ae_rates.upper_bound_when_none(30) == Decimal("10.00")

    def test_boyces_major_events_are_about_one_per_thousand(self) -> None:
        report = ae_rates.build_report(
            sessions=8,
            sessions_with_event=3,
            by_severity={"mild": 3, "significant": 1},
            by_type={"bruising": 2},
            severities=["mild", "significant", "serious"],
            types=["bruising", "headache", "fainting"],
        )
        significant = report.by_severity[1]
        assert significant.rate == Decimal("12.50")
        assert significant.published["boyce_2020"] == Decimal("0.10")
        serious = report.by_severity[2]
        assert serious.count == 0 and serious.upper_bound is None  # 8 sessions: too few
        headache = report.by_type[1]
        assert headache.published == {"brady_2014": Decimal("0.14"), "boyce_2020": None}
        assert report.events_rate == Decimal("50.00")
