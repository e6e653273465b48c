"""The progress pages (care team and portal), the clinic outcomes report and the demo seed."""

from __future__ import annotations

import datetime as dt
import io
import json
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from imsclinic.clinic.models import Location, Service
from imsclinic.core.models import AuditEvent
from imsclinic.patients.models import Patient
from tests.factories.clients import signed_in
from tests.factories.outcomes import course

pytestmark = pytest.mark.django_db


def progress_data(response: Any) -> dict[str, Any]:
    html = response.content.decode()
    start = html.index('<script id="progress-data" type="application/json">')
    body = html[start:].split(">", 1)[1].split("</script>", 1)[0]
    return json.loads(body)


@pytest.fixture
def six(patient: Patient, physio: Any, location: Location, ims_service: Service) -> Patient:
    course(patient, physio, location, ims_service, sessions=6)
    return patient


def test_the_treating_physio_sees_a_chart_and_a_table_per_instrument(six, physio) -> None:
    response = signed_in(physio).get(reverse("patient_progress", args=[six.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    for canvas in ("chart-nprs", "chart-psfs", "chart-odi", "chart-nprs-sessions"):
        assert f'<canvas id="{canvas}"' in html
    assert html.count('class="progress-table"') == 5  # NPRS, PSFS, activities, ODI, pairs
    assert (
        "Pain has come down from 7 to 3, a change of 4 points — more than the 2 points "
        "that patients notice." in html
    )
    assert "Sitting an hour" in html
    assert "vendor/chartjs-4.6.1/chart.umd.min.js" in html
    assert "js/progress.js" in html


def test_the_chart_data_has_the_baseline_the_mcid_band_and_each_point(six, physio) -> None:
    data = progress_data(signed_in(physio).get(reverse("patient_progress", args=[six.pk])))
    charts = {chart["id"]: chart for chart in data["charts"]}
    pain = charts["chart-nprs"]
    assert pain["baseline"] == 7
    assert pain["band"] == [5, 7]
    # x = sessions completed: the pain before needling at session 1 is the baseline (0).
    assert [(p["x"], p["y"]) for p in pain["points"]] == [
        (0, 7),
        (1, 6),
        (2, 5),
        (3, 4),
        (4, 4),
        (5, 3),
    ]
    odi = charts["chart-odi"]
    # Answered before visits 1, 4 and 6: after 0, 3 and 5 sessions.
    assert [p["x"] for p in odi["points"]] == [0, 3, 5]
    assert (odi["yMin"], odi["yMax"], odi["baseline"]) == (0, 100, 46)
    assert odi["band"] == [36, 46]
    pairs = charts["chart-nprs-sessions"]
    assert pairs["labels"] == ["1", "2", "3", "4", "5", "6"]  # plain session numbers
    assert pairs["before"] == [7, 6, 5, 4, 4, 3]
    assert pairs["after"] == [5, 4, 3, 2, 2, 1]


def test_the_table_says_in_words_whether_each_change_is_clinically_important(six, physio) -> None:
    html = signed_in(physio).get(reverse("patient_progress", args=[six.pk])).content.decode()
    assert "Baseline" in html
    assert "Before treatment" in html
    assert "After 3 sessions" in html  # the ODI answered before visit 4
    assert "1 point better" in html  # pain 7 -> 6 at session 2
    assert "Not yet" in html
    assert "Yes" in html
    assert "2 points less pain" in html  # session 1: 7 before, 5 after


def test_reading_a_patients_progress_is_audited(six, physio) -> None:
    signed_in(physio).get(reverse("patient_progress", args=[six.pk]))
    event = AuditEvent.objects.get(object_type="outcome_progress")
    assert (event.action, event.patient_id) == ("view", six.pk)


def test_the_front_desk_may_not_read_progress(six, front_desk) -> None:
    response = signed_in(front_desk).get(reverse("patient_progress", args=[six.pk]))
    assert response.status_code == 403


def test_the_patient_sees_their_own_progress_in_the_portal(six, patient_user) -> None:
    response = signed_in(patient_user).get(reverse("portal_progress"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "My progress" in html
    assert '<canvas id="chart-nprs"' in html
    assert "Pain has come down from 7 to 3" in html
    event = AuditEvent.objects.get(object_type="outcome_progress")
    assert event.patient_id == six.pk


def test_another_patient_sees_nothing_of_this_one(six, other_patient, other_patient_user) -> None:
    html = signed_in(other_patient_user).get(reverse("portal_progress")).content.decode()
    assert "progress-data" not in html
    assert "Nothing to show yet" in html


def test_the_portal_home_and_the_chart_link_to_progress(six, patient_user, physio) -> None:
    home = signed_in(patient_user).get(reverse("portal_home")).content.decode()
    assert reverse("portal_progress") in home
    chart = signed_in(physio).get(reverse("patient_chart", args=[six.pk])).content.decode()
    assert reverse("patient_progress", args=[six.pk]) in chart


def _queries(client: Client, url: str) -> int:
    client.get(url)
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_the_progress_page_makes_the_same_number_of_queries_for_3_and_10_sessions(
    patient, other_patient, physio, location, ims_service, django_assert_max_num_queries
) -> None:
    other_patient.care_team.add(physio.practitioner)
    course(patient, physio, location, ims_service, sessions=3)
    course(other_patient, physio, location, ims_service, sessions=10)
    client = signed_in(physio)
    three = _queries(client, reverse("patient_progress", args=[patient.pk]))
    ten = _queries(client, reverse("patient_progress", args=[other_patient.pk]))
    assert three == ten
    # +5 for the consent and flags under the title (safety_tags.clinical_header): may this
    # user see the flags, the current intake and the decision on it (a needled patient has
    # both), the consent version, signatures.
    with django_assert_max_num_queries(23):
        client.get(reverse("patient_progress", args=[other_patient.pk]))


def test_the_outcomes_report_counts_who_met_the_mcid_by_session(
    patient, other_patient, physio, owner, location, ims_service, django_assert_max_num_queries
) -> None:
    other_patient.care_team.add(physio.practitioner)
    course(patient, physio, location, ims_service, sessions=6)
    course(other_patient, physio, location, ims_service, sessions=3)
    client = signed_in(owner)
    with django_assert_max_num_queries(24):
        response = client.get(reverse("outcomes_report"))
    assert response.status_code == 200
    rows = {row["row"].instrument.code: row["row"] for row in response.context["rows"]}
    pain = rows["NPRS"]
    assert pain.with_baseline == 2
    by_three, by_six, by_ten = pain.cells
    # Both reached session 3 with pain 7 -> 5 (2 points): both met the MCID.
    assert (by_three.reached, by_three.met) == (2, 2)
    assert (by_six.reached, by_six.met) == (1, 1)
    assert (by_ten.reached, by_ten.met) == (0, 0)
    odi = rows["ODI"]
    # The ODI answered before visit 4 is measured after 3 sessions: 46 -> 34 (12 points) for
    # the patient with six sessions; the one with three has only the baseline.
    assert (odi.cells[0].reached, odi.cells[0].met) == (2, 1)
    psfs = rows["PSFS"]
    assert (psfs.cells[0].reached, psfs.cells[0].met) == (2, 0)  # mean 3 -> 4.7: not yet 2
    # By session 6: 46 -> 20, a change of 26 points.
    assert (odi.cells[1].reached, odi.cells[1].met) == (1, 1)
    html = response.content.decode()
    assert "latest score measured after at most n completed sessions" in html
    assert "2 of 2 (100%)" in html
    assert "1 of 2 (50%)" in html  # shares of patients are whole percents
    assert AuditEvent.objects.filter(object_type="outcomes_report").count() == 1


def test_the_outcomes_report_filters_by_the_baseline_date(
    patient, physio, owner, location, ims_service
) -> None:
    course(patient, physio, location, ims_service, sessions=3)
    future = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    response = signed_in(owner).get(reverse("outcomes_report"), {"since": future})
    assert response.status_code == 200
    assert response.context["rows"] == []
    assert "No patient has a baseline score in this period yet." in response.content.decode()


def test_the_outcomes_report_is_the_owners_and_linked_from_the_owner_nav(
    owner, physio, front_desk
) -> None:
    assert signed_in(physio).get(reverse("outcomes_report")).status_code == 403
    assert signed_in(front_desk).get(reverse("outcomes_report")).status_code == 403
    page = signed_in(owner).get(reverse("outcomes_report")).content.decode()
    assert f'href="{reverse("outcomes_report")}"' in page


def test_a_bad_period_is_refused_with_the_reason(owner) -> None:
    response = signed_in(owner).get(
        reverse("outcomes_report"), {"since": "2026-05-02", "until": "2026-05-01"}
    )
    assert response.status_code == 400
    assert "on or after its start" in response.content.decode()


def test_the_demo_patient_has_six_sessions_of_progress_and_seeding_twice_adds_nothing(
    client: Client,
) -> None:
    from django.core.management import call_command

    from imsclinic.outcomes.models import MeasurePlan, OutcomeResult

    call_command("seed_demo", stdout=io.StringIO())
    counts = (OutcomeResult.objects.count(), MeasurePlan.objects.count())
    call_command("seed_demo", stdout=io.StringIO())
    assert (OutcomeResult.objects.count(), MeasurePlan.objects.count()) == counts
    demo = Patient.objects.get(email="patient@example.com")
    plan = MeasurePlan.objects.get(patient=demo)
    assert (plan.region_instrument, len(plan.psfs_activities)) == ("NDI", 3)
    assert demo.user is not None
    client.force_login(demo.user)
    response = client.get(reverse("portal_progress"))
    data = progress_data(response)
    charts = {chart["id"]: chart for chart in data["charts"]}
    assert [p["y"] for p in charts["chart-nprs"]["points"]] == [7, 6, 4, 4, 3, 3]
    assert [p["x"] for p in charts["chart-ndi"]["points"]] == [0, 3, 5]  # sessions done
    assert [p["x"] for p in charts["chart-psfs"]["points"]] == [0, 3, 5]
    assert "Pain has come down from 7 to 3" in response.content.decode()
    report = mcid_rows_for_demo()
    assert report["NPRS"].with_baseline >= 3  # the demo patient and the other courses
    assert report["NPRS"].cells[0].reached >= 3


def mcid_rows_for_demo() -> dict[str, Any]:
    from imsclinic.clinic.selectors import clinic_zone
    from imsclinic.outcomes.report import mcid_table
    from imsclinic.outcomes.selectors import clinic_courses

    rows = mcid_table(clinic_courses(), since=None, until=None, zone=clinic_zone())
    return {row.instrument.code: row for row in rows}


def _odi_results(patient: Patient) -> list[Any]:
    from imsclinic.outcomes.models import OutcomeResult

    return list(OutcomeResult.objects.filter(patient=patient, instrument="ODI").order_by("pk"))


def strike_url(patient: Patient, result_id: int) -> str:
    return reverse("outcome_result_strike_out", args=[patient.pk, result_id])


def test_the_treating_physio_strikes_out_a_wrong_result_with_a_reason(six, physio) -> None:
    client = signed_in(physio)
    page = client.get(reverse("patient_progress", args=[six.pk])).content.decode()
    wrong = _odi_results(six)[1]
    assert f'action="{strike_url(six, wrong.pk)}"' in page

    response = client.post(strike_url(six, wrong.pk), {"reason": "Typed in twice."}, follow=True)

    assert response.redirect_chain[-1][0] == reverse("patient_progress", args=[six.pk])
    html = response.content.decode()
    assert "Struck out the Oswestry" in html
    wrong.refresh_from_db()
    assert (wrong.voided_by, wrong.void_reason) == (physio, "Typed in twice.")
    charts = {chart["id"]: chart for chart in progress_data(response)["charts"]}
    assert [p["x"] for p in charts["chart-odi"]["points"]] == [0, 5]  # its point is gone
    assert f'action="{strike_url(six, wrong.pk)}"' not in html
    assert "Typed in twice." in html  # listed under "Struck out" with the reason
    event = AuditEvent.objects.get(object_type="outcome_result", action="update")
    assert (event.actor_id, event.patient_id, event.outcome) == (physio.pk, six.pk, "allowed")


def test_a_strike_out_without_a_reason_is_refused_and_changes_nothing(six, owner) -> None:
    wrong = _odi_results(six)[0]
    response = signed_in(owner).post(strike_url(six, wrong.pk), {"reason": "  "}, follow=True)
    assert "Say why the result is struck out." in response.content.decode()
    wrong.refresh_from_db()
    assert wrong.voided_at is None


def test_only_the_care_team_and_the_owner_strike_out(
    six, front_desk, other_physio, patient_user
) -> None:
    wrong = _odi_results(six)[0]
    assert signed_in(front_desk).post(strike_url(six, wrong.pk), {"reason": "x"}).status_code == 403
    assert (
        signed_in(other_physio).post(strike_url(six, wrong.pk), {"reason": "x"}).status_code == 404
    )
    assert (
        signed_in(patient_user).post(strike_url(six, wrong.pk), {"reason": "x"}).status_code == 404
    )
    wrong.refresh_from_db()
    assert wrong.voided_at is None


def test_another_patients_result_cannot_be_struck_out_through_this_one(
    six, other_patient, physio, location, ims_service
) -> None:
    other_patient.care_team.add(physio.practitioner)
    course(other_patient, physio, location, ims_service, sessions=1)
    theirs = _odi_results(other_patient)[0]
    response = signed_in(physio).post(strike_url(six, theirs.pk), {"reason": "x"})
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.voided_at is None


def test_the_patient_sees_no_strike_out_in_the_portal(six, patient_user) -> None:
    html = signed_in(patient_user).get(reverse("portal_progress")).content.decode()
    assert "Strike out" not in html
