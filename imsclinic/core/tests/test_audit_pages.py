"""The owner reads, filters and exports the audit log; nobody else sees it."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from imsclinic.core.audit import audit_record
from imsclinic.core.models import Action, AuditEvent, Outcome

pytestmark = pytest.mark.django_db

WHO_MAY_SEE = {
    "anonymous": 302,
    "patient": 403,
    "other_patient": 403,
    "front_desk": 403,
    "physio": 403,
    "other_physio": 403,
    "owner": 200,
}


def client_for(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def write_at(monkeypatch: pytest.MonkeyPatch) -> Callable[..., AuditEvent]:
    """Return a function that writes an audit row as if at a given moment."""

    def write(at: dt.datetime | None = None, **fields: object) -> AuditEvent:
        fields.setdefault("actor", None)
        fields.setdefault("action", Action.VIEW)
        fields.setdefault("object_type", "patient")
        with monkeypatch.context() as patch:
            if at is not None:
                patch.setattr(timezone, "now", lambda: at)
            return audit_record(**fields)  # type: ignore[arg-type]

    return write


def shown_ids(response) -> set[str]:
    """Return the object ids in the rows of the page's table (marked #id in the Object column)."""
    html = response.content.decode()
    return {part.split("<", 1)[0] for part in html.split(" #")[1:]}


def csv_rows(response) -> list[dict[str, str]]:
    body = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body)))


@pytest.mark.parametrize("who", WHO_MAY_SEE)
def test_only_the_owner_may_open_the_audit_log(cast, who):
    response = client_for(cast[who]).get(reverse("audit_log"))
    assert response.status_code == WHO_MAY_SEE[who]
    if who == "anonymous":
        assert reverse("account_login") in response["Location"]


@pytest.mark.parametrize("who", WHO_MAY_SEE)
def test_only_the_owner_may_export_the_audit_log(cast, who, write_at):
    write_at(object_id="secret-row")
    response = client_for(cast[who]).get(reverse("audit_log_csv"))
    assert response.status_code == WHO_MAY_SEE[who]
    if response.status_code == 200:
        assert response["Content-Type"].startswith("text/csv")
    else:
        assert b"secret-row" not in response.getvalue()


def test_a_staff_members_attempt_to_read_the_log_is_itself_recorded_as_denied(cast):
    client_for(cast["front_desk"]).get(reverse("audit_log"))
    event = AuditEvent.objects.get(object_type="audit_log")
    assert event.actor == cast["front_desk"]
    assert (event.action, event.outcome) == (Action.VIEW, Outcome.DENIED)


def test_the_owner_sees_who_did_what_to_whom_and_the_outcome_in_words(cast, patient, rf):
    audit_record(
        actor=cast["other_physio"],
        action=Action.VIEW,
        object_type="patient",
        object_id=patient.pk,
        patient=patient,
        outcome=Outcome.DENIED,
        request=rf.get("/", REMOTE_ADDR="198.51.100.7"),
    )
    response = client_for(cast["owner"]).get(reverse("audit_log"))
    html = response.content.decode()
    assert "other.physio@cedar.example" in html
    assert "Practitioner" in html
    assert f'href="{reverse("patient_detail", args=[patient.pk])}">Pat Ient</a>' in html
    assert "Denied" in html
    assert "198.51.100.7" in html
    assert f"patient #{patient.pk}" in html
    assert '<th scope="col">Time (UTC)</th>' in html


def test_the_newest_rows_come_first_fifty_to_a_page(cast, write_at):
    for n in range(120):
        write_at(object_id=f"row{n}")
    client = client_for(cast["owner"])
    first = client.get(reverse("audit_log"))
    assert shown_ids(first) == {f"row{n}" for n in range(70, 120)}
    assert first.content.decode().index("#row119") < first.content.decode().index("#row118")
    assert "Page 1 of 3" in first.content.decode()
    # The owner's first look is now the newest row, so the last page holds the 20 oldest + 1.
    last = client.get(reverse("audit_log"), {"page": 3})
    assert shown_ids(last) == {f"row{n}" for n in range(0, 21)}


def test_dates_are_whole_days_in_utc(cast, write_at):
    utc = dt.UTC
    write_at(dt.datetime(2026, 3, 1, 23, 59, 59, tzinfo=utc), object_id="day-before")
    write_at(dt.datetime(2026, 3, 2, 0, 0, 0, tzinfo=utc), object_id="first-moment")
    write_at(dt.datetime(2026, 3, 2, 23, 59, 59, 999999, tzinfo=utc), object_id="last-moment")
    write_at(dt.datetime(2026, 3, 3, 0, 0, 0, tzinfo=utc), object_id="day-after")
    response = client_for(cast["owner"]).get(
        reverse("audit_log"), {"date_from": "2026-03-02", "date_to": "2026-03-02"}
    )
    assert shown_ids(response) == {"first-moment", "last-moment"}


def test_a_start_date_alone_shows_that_day_and_after(cast, write_at):
    write_at(dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC), object_id="before")
    write_at(dt.datetime(2026, 3, 5, 12, tzinfo=dt.UTC), object_id="after")
    response = client_for(cast["owner"]).get(reverse("audit_log"), {"date_from": "2026-03-02"})
    assert "after" in shown_ids(response)
    assert "before" not in shown_ids(response)


def test_the_owner_filters_by_staff_member(cast, write_at):
    write_at(actor=cast["front_desk"], object_id="by-desk")
    write_at(actor=cast["physio"], object_id="by-physio")
    response = client_for(cast["owner"]).get(reverse("audit_log"), {"user": cast["front_desk"].pk})
    assert shown_ids(response) == {"by-desk"}


def test_the_owner_filters_by_patient_and_sees_their_name(cast, patient, other_patient, write_at):
    write_at(patient=patient, object_id="about-pat")
    write_at(patient=other_patient, object_id="about-otto")
    response = client_for(cast["owner"]).get(reverse("audit_log"), {"patient": patient.pk})
    assert shown_ids(response) == {"about-pat"}
    assert 'id="chosen-patient"' in response.content.decode()
    assert "Pat Ient" in response.content.decode()


def test_a_patient_number_with_no_record_says_so_and_shows_its_rows(cast, write_at):
    write_at(patient_id=424242, object_id="gone")
    response = client_for(cast["owner"]).get(reverse("audit_log"), {"patient": 424242})
    assert shown_ids(response) == {"gone"}
    assert "No patient record has number 424242" in response.content.decode()


def test_the_owner_filters_by_action_and_outcome(cast, write_at):
    write_at(action=Action.VIEW, object_id="looked")
    write_at(action=Action.UPDATE, object_id="changed")
    write_at(action=Action.UPDATE, outcome=Outcome.DENIED, object_id="refused")
    client = client_for(cast["owner"])
    by_action = client.get(reverse("audit_log"), {"action": "update"})
    assert shown_ids(by_action) == {"changed", "refused"}
    by_both = client.get(reverse("audit_log"), {"action": "update", "outcome": "denied"})
    assert shown_ids(by_both) == {"refused"}


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"date_from": "2026-13-40"}, "Enter a valid date."),
        ({"date_from": "2026-03-05", "date_to": "2026-03-01"}, "The end date is before the start"),
        ({"patient": "Pat"}, "Enter a whole number."),
        ({"action": "erase"}, "Select a valid choice."),
    ],
)
def test_a_bad_filter_is_explained_and_no_rows_are_shown(cast, write_at, params, message):
    write_at(object_id="any-row")
    response = client_for(cast["owner"]).get(reverse("audit_log"), params)
    html = response.content.decode()
    assert response.status_code == 200
    assert message in html
    assert "Nothing is shown until the filters above are corrected." in html
    assert "<table" not in html
    assert "any-row" not in html


def test_a_bad_date_is_kept_as_typed_so_it_can_be_fixed(cast):
    response = client_for(cast["owner"]).get(reverse("audit_log"), {"date_from": "2026-13-40"})
    assert 'value="2026-13-40"' in response.content.decode()


def test_the_owners_look_is_recorded_with_the_filters_used(cast, patient):
    client_for(cast["owner"]).get(
        reverse("audit_log"), {"patient": patient.pk, "action": "update", "date_from": "2026-03-02"}
    )
    event = AuditEvent.objects.get(object_type="audit_log")
    assert (event.actor, event.action, event.outcome) == (cast["owner"], Action.VIEW, "allowed")
    assert event.patient_id == patient.pk
    assert event.detail == {
        "filters": {"patient": patient.pk, "action": "update", "date_from": "2026-03-02"},
        "page": 1,
    }


def test_the_page_needs_a_fixed_number_of_queries(
    cast, patient, other_patient, write_at, django_assert_max_num_queries
):
    people = [cast["front_desk"], cast["physio"], cast["other_physio"], cast["owner"]]
    for n in range(60):
        write_at(actor=people[n % 4], patient=(patient, other_patient)[n % 2], object_id=n)
    client = client_for(cast["owner"])
    client.get(reverse("audit_log"))  # warm the session and the clinic cache
    # PostgreSQL adds one query: the lock that orders the chain.
    with django_assert_max_num_queries(16 + (connection.vendor == "postgresql")):
        response = client.get(reverse("audit_log"), {"patient": patient.pk})
    assert len(shown_ids(response)) == 30


def test_the_csv_export_uses_the_same_filters_and_has_a_header(cast, patient, write_at, rf):
    write_at(
        actor=cast["front_desk"],
        patient=patient,
        object_id="kept",
        request=rf.get("/", REMOTE_ADDR="203.0.113.5"),
        detail={"fields": ["phone"]},
        at=dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC),
    )
    write_at(actor=cast["physio"], patient=patient, object_id="left-out")
    response = client_for(cast["owner"]).get(
        reverse("audit_log_csv"), {"user": cast["front_desk"].pk}
    )
    assert response.status_code == 200
    assert 'filename="audit-log-' in response["Content-Disposition"]
    rows = csv_rows(response)
    assert [row["object_id"] for row in rows] == ["kept"]
    row = rows[0]
    assert row["time_utc"] == "2026-03-02T09:30:00Z"
    assert row["user_email"] == "desk@cedar.example"
    assert row["role"] == "front_desk"
    assert row["patient_id"] == str(patient.pk)
    assert row["patient_name"] == "Pat Ient"
    assert (row["action"], row["outcome"], row["ip"]) == ("view", "allowed", "203.0.113.5")
    assert row["detail"] == '{"fields": ["phone"]}'


def test_the_export_is_itself_recorded_with_its_filters(cast, write_at):
    write_at(object_id="row")
    response = client_for(cast["owner"]).get(
        reverse("audit_log_csv"), {"outcome": "denied", "date_to": "2026-12-31"}
    )
    csv_rows(response)
    event = AuditEvent.objects.get(action=Action.EXPORT)
    assert (event.actor, event.object_type, event.outcome) == (
        cast["owner"],
        "audit_log",
        "allowed",
    )
    assert event.detail == {
        "filters": {"outcome": "denied", "date_to": "2026-12-31"},
        "format": "csv",
    }


def test_a_cell_a_spreadsheet_would_run_as_a_formula_is_defused(cast, write_at):
    write_at(object_id="=HYPERLINK(1)")
    rows = csv_rows(client_for(cast["owner"]).get(reverse("audit_log_csv"), {"action": "view"}))
    assert [row["object_id"] for row in rows] == ["'=HYPERLINK(1)"]


def test_an_export_with_a_bad_filter_explains_and_exports_nothing(cast, write_at):
    write_at(object_id="row")
    response = client_for(cast["owner"]).get(reverse("audit_log_csv"), {"date_to": "yesterday"})
    assert response.status_code == 400
    assert b"Enter a valid date." in response.content
    assert not AuditEvent.objects.filter(action=Action.EXPORT).exists()
