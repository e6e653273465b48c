"""The check-in link and form, red-flag escalation, the banner, and the front desk's list."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.core import mail, signing
from django.db import connection
from django.test import Client
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from imsclinic.accounts.models import User
from imsclinic.clinic.models import Clinic, NeedleLot, Service
from imsclinic.core.models import AuditEvent
from imsclinic.followup.models import CheckIn, CheckInStatus, RedFlagAlert
from imsclinic.followup.selectors import followup_stats, unanswered_checkins
from imsclinic.followup.tasks import alert_care_team, send_checkin
from imsclinic.followup.tokens import checkin_token
from imsclinic.patients.models import Patient
from imsclinic.safety.models import AdverseEvent, AdverseEventType, EventStatus
from imsclinic.safety.selectors import adverse_event_alerts, adverse_event_counts
from tests.factories.clients import signed_in
from tests.factories.followup import sign_visit
from tests.factories.mail import MailServer

ALERT_TASK = "imsclinic.followup.tasks.alert_care_team"

LIST_QUERIES = 15
CALM = {
    "soreness": "3",
    "bruising": "yes",
    "breathless_or_chest_pain": "no",
    "site_infection_signs": "no",
    "site_swelling_or_pus": "no",
    "numbness_or_weakness": "no",
    "fainted": "no",
    "other_symptoms": "",
    "notes": "Tired but fine.",
}


def link_in(message: mail.EmailMessage) -> str:
    found = re.search(r"https?://\S+(/check-in/\S+/)", str(message.body))
    assert found is not None
    return found.group(1)


@pytest.fixture
def sent(
    clock: Any,
    ready_patient: Patient,
    physio: User,
    ims_service: Service,
    lot: NeedleLot,
    clinic: Clinic,
    mailoutbox: list[mail.EmailMessage],
) -> tuple[CheckIn, str]:
    """A check-in sent 25 hours after a thoracic session (rhomboids), and its link."""
    session = sign_visit(ready_patient, physio, ims_service, lot, muscle="rhomboids")
    clock.shift(dt.timedelta(hours=25))
    assert send_checkin.call(session.pk) is True
    link = link_in(mailoutbox.pop())
    return CheckIn.objects.get(session=session), link


def test_the_link_opens_the_form_without_signing_in(sent: tuple[CheckIn, str]) -> None:
    _checkin, link = sent
    page = Client().get(link)
    assert page.status_code == 200
    text = page.content.decode()
    assert "How are you after your visit?" in text
    assert "12 March 2031" in text


def test_the_breathlessness_question_comes_first_after_a_thoracic_session(
    sent: tuple[CheckIn, str],
) -> None:
    text = Client().get(sent[1]).content.decode()
    assert text.index("short of breath") < text.index("How sore are you now?")
    assert "near the chest wall" in text


def test_after_other_sessions_breathlessness_is_asked_among_the_warning_signs(
    clock: Any,
    ready_patient: Patient,
    physio: User,
    ims_service: Service,
    lot: NeedleLot,
    clinic: Clinic,
) -> None:
    session = sign_visit(ready_patient, physio, ims_service, lot)
    clock.shift(dt.timedelta(hours=25))
    send_checkin.call(session.pk)
    checkin = CheckIn.objects.get(session=session)
    text = Client().get(reverse("checkin_answer", args=[checkin_token(checkin.pk)])).content
    page = text.decode()
    assert page.index("How sore are you now?") < page.index("short of breath")
    assert "near the chest wall" not in page


def test_a_tampered_link_finds_nothing(sent: tuple[CheckIn, str]) -> None:
    checkin, _link = sent
    token = checkin_token(checkin.pk)
    forged = str(checkin.pk + 1) + token[len(str(checkin.pk)) :]
    for bad in (forged, token[:-2] + "xx", "1"):
        page = Client().get(reverse("checkin_answer", args=[bad]))
        assert page.status_code == 404
        assert "604-555-0100" in page.content.decode()


def test_a_token_signed_for_another_purpose_is_refused(sent: tuple[CheckIn, str]) -> None:
    checkin, _link = sent
    other = signing.TimestampSigner(salt="imsclinic.other.purpose").sign(str(checkin.pk))
    assert Client().get(reverse("checkin_answer", args=[other])).status_code == 404
    plain = signing.Signer().sign(str(checkin.pk))
    assert Client().get(reverse("checkin_answer", args=[plain])).status_code == 404


def test_the_link_expires_after_a_week(clock: Any, sent: tuple[CheckIn, str]) -> None:
    clock.shift(dt.timedelta(days=7, minutes=1))
    page = Client().get(sent[1])
    assert page.status_code == 410
    assert "expired" in page.content.decode()


def test_with_the_mail_server_down_the_red_flag_email_is_tried_again_later(
    sent: tuple[CheckIn, str],
    physio: User,
    owner: User,
    mailoutbox: list[mail.EmailMessage],
    mail_server: MailServer,
) -> None:
    checkin, link = sent
    Client().post(link, {**CALM, "fainted": "yes"})
    alert = RedFlagAlert.objects.get(checkin=checkin)
    mail_server.down()
    assert alert_care_team.call(alert.pk) == 0
    alert.refresh_from_db()
    assert alert.emailed_at is None
    assert DBTaskResult.objects.filter(task_path=ALERT_TASK).count() == 2  # the first and a retry

    mail_server.back_up()
    assert alert_care_team.call(alert.pk) == 2
    assert sorted(message.to[0] for message in mailoutbox) == [
        "owner@cedar.example",
        "physio@cedar.example",
    ]


def test_it_needs_every_warning_sign_answered(sent: tuple[CheckIn, str]) -> None:
    checkin, link = sent
    answers = {**CALM}
    del answers["fainted"]
    page = Client().post(link, answers)
    assert page.status_code == 400
    text = page.content.decode()
    assert "Answer yes or no." in text
    assert 'aria-invalid="true"' in text
    # The summary at the top names the question and links to its first choice.
    summary = text[
        text.index('id="error-summary"') : text.index("</div>", text.index('id="error-summary"'))
    ]
    assert 'href="#id_fainted_0"' in summary
    assert 'id="id_fainted_0"' in text
    checkin.refresh_from_db()
    assert checkin.status == CheckInStatus.SENT


def test_an_over_long_note_is_linked_from_the_summary_and_kept(
    sent: tuple[CheckIn, str],
) -> None:
    checkin, link = sent
    note = "Still a little sore.\r\n" * 120  # over 2,000 characters as sent
    page = Client().post(link, {**CALM, "notes": note})
    assert page.status_code == 400
    text = page.content.decode()
    assert 'href="#id_notes"' in text
    assert "Still a little sore." in text  # what was typed is still in the box
    checkin.refresh_from_db()
    assert checkin.status == CheckInStatus.SENT


def test_an_empty_check_in_lists_every_question_to_answer_in_page_order(
    sent: tuple[CheckIn, str],
) -> None:
    checkin, link = sent
    assert checkin.thoracic_precaution  # so breathlessness is asked first, in a box
    text = Client().post(link, {}).content.decode()
    start = text.index('id="error-summary"')
    links = re.findall(r'href="#(id_[a-z0-9_]+)"', text[start : text.index("</ul>", start)])
    assert links == [
        "id_breathless_or_chest_pain_0",
        "id_soreness_0",
        "id_site_infection_signs_0",
        "id_site_swelling_or_pus_0",
        "id_numbness_or_weakness_0",
        "id_fainted_0",
    ]


def test_calm_answers_are_stored_and_thanked_once(
    sent: tuple[CheckIn, str], mailoutbox: list[mail.EmailMessage]
) -> None:
    checkin, link = sent
    client = Client()
    response = client.post(link, CALM)
    assert response.status_code == 302
    page = client.get(link)
    assert "Thank you, we have your answers" in page.content.decode()
    assert "Please get medical help now" not in page.content.decode()
    checkin.refresh_from_db()
    assert (checkin.status, checkin.soreness, checkin.bruising) == (
        CheckInStatus.ANSWERED,
        3,
        True,
    )
    assert checkin.red_flag is False
    assert not RedFlagAlert.objects.exists()
    # A second post changes nothing.
    client.post(link, {**CALM, "soreness": "9"})
    checkin.refresh_from_db()
    assert checkin.soreness == 3
    assert mailoutbox == []


def test_a_red_flag_tells_the_patient_to_seek_urgent_care_and_alerts_the_team(
    sent: tuple[CheckIn, str],
    physio: User,
    owner: User,
    mailoutbox: list[mail.EmailMessage],
) -> None:
    checkin, link = sent
    client = Client()
    response = client.post(link, {**CALM, "breathless_or_chest_pain": "yes"}, follow=True)
    text = response.content.decode()
    assert "Please get medical help now" in text
    assert "call 911 now" in text
    assert 'href="tel:604-555-0100"' in text

    checkin.refresh_from_db()
    assert checkin.red_flag is True
    alert = RedFlagAlert.objects.get(checkin=checkin)
    assert alert.practitioner == physio
    assert alert.acknowledged_at is None
    draft = alert.adverse_event
    assert draft is not None
    assert draft.status == EventStatus.DRAFT
    assert draft.event_type == AdverseEventType.PNEUMOTHORAX
    assert draft.session_id == checkin.session_id
    assert draft.onset == checkin.answered_at
    assert "Breathlessness or chest pain: yes." in draft.description
    kinds = set(
        AuditEvent.objects.filter(patient_id=checkin.patient_id).values_list(
            "object_type", "action"
        )
    )
    assert {
        ("followup_checkin", "update"),
        ("followup_alert", "create"),
        ("adverse_event", "create"),
    } <= kinds

    # One task, committed with the alert, emails the treating practitioner and every owner once.
    (queued,) = DBTaskResult.objects.filter(task_path=ALERT_TASK)
    assert queued.args_kwargs["args"] == [alert.pk]
    assert alert_care_team.call(alert.pk) == 2
    assert alert_care_team.call(alert.pk) == 0
    assert sorted(message.to[0] for message in mailoutbox) == [
        "owner@cedar.example",
        "physio@cedar.example",
    ]
    for message in mailoutbox:
        assert reverse("followup_alert", args=[alert.pk]) in message.body
        for word in ("Pat", "Ient", "breath", "chest", "pneumo"):
            assert word not in message.body
            assert word not in message.subject


def test_a_red_flag_draft_stays_out_of_reports_until_completed(
    sent: tuple[CheckIn, str], physio: User
) -> None:
    checkin, link = sent
    Client().post(link, {**CALM, "site_swelling_or_pus": "yes"})
    draft = AdverseEvent.objects.get()
    assert draft.event_type == AdverseEventType.INFECTION
    assert adverse_event_counts().sessions_with_event == 0
    assert list(adverse_event_alerts()) == []

    client = signed_in(physio)
    form_url = reverse("adverse_event_new", args=[checkin.patient_id]) + f"?draft={draft.pk}"
    chart = client.get(reverse("patient_chart", args=[checkin.patient_id])).content.decode()
    assert "Draft from a follow-up check-in — complete it" in chart
    assert f"?draft={draft.pk}" in chart
    form = client.get(form_url)
    assert form.status_code == 200
    text = form.content.decode()
    assert "Draft from a follow-up check-in" in text
    assert "Swelling or pus at a needle site: yes." in text
    response = client.post(
        form_url,
        {
            "session": str(checkin.session_id),
            "event_type": AdverseEventType.INFECTION,
            "severity": "significant",
            "onset": "2031-03-13T11:30",
            "muscle": "",
            "site": "left upper back",
            "description": draft.description,
            "action_taken": "Phoned; sent to the family doctor for antibiotics.",
            "outcome": "",
        },
    )
    assert response.status_code == 302
    assert AdverseEvent.objects.count() == 1
    draft.refresh_from_db()
    assert draft.status == EventStatus.RECORDED
    assert draft.recorded_by == physio
    assert adverse_event_counts().sessions_with_event == 1
    assert list(adverse_event_alerts()) == [draft]
    chart = client.get(reverse("patient_chart", args=[checkin.patient_id])).content.decode()
    assert "Draft from a follow-up check-in" not in chart


def test_the_banner_shows_to_the_treating_physio_and_owners_until_acknowledged(
    sent: tuple[CheckIn, str],
    physio: User,
    other_physio: User,
    owner: User,
    front_desk: User,
) -> None:
    _checkin, link = sent
    Client().post(link, {**CALM, "fainted": "yes"})
    alert = RedFlagAlert.objects.get()
    staff_page = reverse("patient_list")
    banner = "Follow-up red flag: Pat"
    for user in (physio, owner):
        assert banner in signed_in(user).get(staff_page).content.decode()
    for user in (other_physio, front_desk):
        assert banner not in signed_in(user).get(staff_page).content.decode()

    listed = signed_in(physio).get(reverse("followup_list")).content.decode()
    assert reverse("followup_alert", args=[alert.pk]) in listed
    detail = signed_in(physio).get(reverse("followup_alert", args=[alert.pk]))
    assert detail.status_code == 200
    assert "Draft from a follow-up check-in — complete it" in detail.content.decode()
    acknowledge = reverse("followup_alert_acknowledge", args=[alert.pk])
    assert signed_in(other_physio).post(acknowledge).status_code == 404
    assert signed_in(front_desk).post(acknowledge).status_code == 403
    assert signed_in(physio).post(acknowledge).status_code == 302
    alert.refresh_from_db()
    assert alert.acknowledged_by == physio
    assert AuditEvent.objects.filter(
        object_type="followup_alert", object_id=str(alert.pk), action="update", outcome="allowed"
    ).exists()
    for user in (physio, owner):
        assert banner not in signed_in(user).get(staff_page).content.decode()


def test_a_checkin_unanswered_for_48_hours_appears_on_the_front_desk_list(
    clock: Any, sent: tuple[CheckIn, str], front_desk: User, django_assert_max_num_queries: Any
) -> None:
    checkin, _link = sent
    client = signed_in(front_desk)
    assert list(unanswered_checkins()) == []
    assert "Pat Ient" not in client.get(reverse("followup_list")).content.decode()

    clock.shift(dt.timedelta(hours=48, minutes=1))
    assert list(unanswered_checkins()) == [checkin]
    client = signed_in(front_desk)  # a new sign-in: staff sessions do not last two days
    # Session, user, MFA, clinic, the list's two queries, the audit row: none grows with rows.
    with django_assert_max_num_queries(LIST_QUERIES + (connection.vendor == "postgresql")):
        page = client.get(reverse("followup_list"))
    text = page.content.decode()
    assert "Pat" in text and "(604) 555-0199" in text
    assert "Tara Treating" in text
    assert "Call to check in" in text

    assert "Open red flags" not in text  # clinical: not for the front desk

    client.post(reverse("checkin_phoned", args=[checkin.pk]))
    checkin.refresh_from_db()
    assert checkin.phoned_by == front_desk
    assert "Phoned by Frank Desk" in client.get(reverse("followup_list")).content.decode()


def test_the_stats_count_sent_answered_and_red_flags(clock: Any, sent: tuple[CheckIn, str]) -> None:
    _checkin, link = sent
    Client().post(link, {**CALM, "numbness_or_weakness": "yes"})
    stats = followup_stats(since=dt.date(2031, 3, 1), until=dt.date(2031, 3, 31))
    assert (stats.sent, stats.answered, stats.answered_in_time, stats.red_flags) == (1, 1, 1, 1)
    assert (stats.soreness_reported, stats.bruising_reported, stats.bruising_answered) == (1, 1, 1)
    assert stats.response_rate == 1.0
    assert followup_stats(since=dt.date(2031, 4, 1), until=None).sent == 0


def test_a_later_visit_to_an_answered_link_shows_none_of_the_answers(
    sent: tuple[CheckIn, str],
) -> None:
    _checkin, link = sent
    patient_phone = Client()
    urgent = patient_phone.post(link, {**CALM, "breathless_or_chest_pain": "yes"}, follow=True)
    assert "call 911 now" in urgent.content.decode()
    # The same phone reloading the page, or anyone else holding the link, later in the week.
    for later in (patient_phone.get(link), Client().get(link)):
        text = later.content.decode()
        assert later.status_code == 200
        assert "Thank you, we have your answers" in text
        assert "If you feel worse, call 911 or the clinic." in text
        assert 'href="tel:604-555-0100"' in text
        for answer in ("Please get medical help now", "call 911 now", "breath", "chest"):
            assert answer not in text


def test_a_bruising_question_left_blank_reads_not_answered_in_the_draft(
    sent: tuple[CheckIn, str],
) -> None:
    _checkin, link = sent
    Client().post(link, {**CALM, "bruising": "", "fainted": "yes"})
    description = AdverseEvent.objects.get().description
    assert "Bruising: not answered." in description
    assert "Bruising: no." not in description
    stats = followup_stats(since=dt.date(2031, 3, 1), until=dt.date(2031, 3, 31))
    assert (stats.answered, stats.bruising_reported, stats.bruising_answered) == (1, 0, 0)


def test_the_form_shows_an_evening_visit_on_its_day_in_vancouver(
    clock: Any, patient: Patient, physio: User, clinic: Clinic
) -> None:
    from imsclinic.clinic.tests.needling import make_lot, needling_session

    # 19:30 in Vancouver on 12 March 2031 is already 13 March in UTC.
    evening = dt.datetime(2031, 3, 13, 2, 30, tzinfo=dt.UTC)
    session = needling_session(patient, physio, lots=[make_lot("EVE-1")], start=evening)
    checkin = CheckIn.objects.create(
        session=session,
        patient=patient,
        practitioner=physio,
        due_at=evening + dt.timedelta(hours=24),
        sent_at=evening + dt.timedelta(hours=24),
        status=CheckInStatus.SENT,
    )
    text = Client().get(reverse("checkin_answer", args=[checkin_token(checkin.pk)])).content
    assert "Your IMS visit on 12 March 2031." in text.decode()


def test_the_chart_shows_each_sessions_checkin_under_the_session(
    sent: tuple[CheckIn, str], physio: User, patient: Patient
) -> None:
    from imsclinic.clinic.tests.needling import make_lot, needling_session

    checkin, link = sent
    Client().post(
        link, {**CALM, "soreness": "7", "bruising": "no", "other_symptoms": "A headache."}
    )
    CheckIn.objects.create(
        session=needling_session(patient, physio, lots=[make_lot("CH-2")]),
        patient=patient,
        practitioner=physio,
        due_at=checkin.due_at - dt.timedelta(days=7),
        status=CheckInStatus.SKIPPED,
        skip_reason="no_email",
    )
    text = signed_in(physio).get(reverse("patient_chart", args=[patient.pk])).content.decode()
    assert text.count("Follow-up check-in</h3>") == 2
    answered = text[text.index("Follow-up check-in</h3>") :]
    for words in ("Answered 13 Mar 2031", "7/10", "A headache.", "Tired but fine.", "None"):
        assert words in answered
    assert "Not sent: no email address" in text
