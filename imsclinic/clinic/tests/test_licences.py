"""The one rule for whether a practitioner may needle on a day, and how the owner keeps it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from imsclinic.clinic.licences import (
    Licence,
    Licences,
    RegistrationStatus,
    first_needling_day,
    may_needle,
    needling_gaps,
    province_requires_authorisation,
)
from imsclinic.clinic.models import Practitioner
from tests.factories.clients import signed_in

DAY = dt.date(2030, 6, 12)
CURRENT = Licences(
    ims_certified_on=dt.date(2015, 1, 1), registration_expires_on=dt.date(2031, 1, 1)
)


def test_a_practising_registration_and_a_current_certificate_may_needle():
    assert needling_gaps(CURRENT, DAY, authorisation_required=False) == ()


def test_a_registration_with_no_expiry_recorded_does_not_stop_needling():
    unknown = Licences(ims_certified_on=dt.date(2015, 1, 1))
    assert may_needle(unknown, DAY, authorisation_required=False)


@pytest.mark.parametrize(
    ("licences", "sentence"),
    [
        (
            Licences(ims_certified_on=dt.date(2015, 1, 1), registration_expires_on=DAY),
            "The college registration expired on June 12, 2030.",
        ),
        (
            Licences(ims_certified_on=dt.date(2015, 1, 1), registration_status="non_practising"),
            "The college registration is non-practising, not practising.",
        ),
        (Licences(), "No IMS certificate is recorded."),
        (
            Licences(ims_certified_on=dt.date(2015, 1, 1), ims_certification_expires_on=DAY),
            "The IMS certificate expired on June 12, 2030.",
        ),
    ],
)
def test_each_missing_licence_is_named_in_plain_words(licences, sentence):
    gaps = needling_gaps(licences, DAY, authorisation_required=False)
    assert [gap.sentence() for gap in gaps] == [sentence]


def test_the_authorisation_counts_only_where_it_is_required():
    assert needling_gaps(CURRENT, DAY, authorisation_required=False) == ()
    (gap,) = needling_gaps(CURRENT, DAY, authorisation_required=True)
    assert gap.licence == Licence.NEEDLING_AUTHORISATION
    assert gap.sentence() == "No needling authorisation is recorded."


@pytest.mark.parametrize("written", ["AB", "Alberta", " alberta ", "Alta."])
def test_alberta_requires_the_authorisation_however_it_is_written(written):
    assert province_requires_authorisation(written)


@pytest.mark.parametrize("written", ["BC", "British Columbia", "ON", ""])
def test_other_provinces_do_not_unless_the_owner_says_so(written):
    assert not province_requires_authorisation(written)


dates = st.one_of(st.none(), st.dates(dt.date(2029, 1, 1), dt.date(2031, 12, 31)))


@given(
    status=st.sampled_from(RegistrationStatus.values),
    registration_ends=dates,
    certified=dates,
    certificate_ends=dates,
    authorised=dates,
    authorisation_ends=dates,
    required=st.booleans(),
    first=st.dates(dt.date(2029, 6, 1), dt.date(2031, 6, 1)),
    span=st.integers(0, 120),
)
def test_the_first_needling_day_is_the_first_day_the_rule_allows(
    status,
    registration_ends,
    certified,
    certificate_ends,
    authorised,
    authorisation_ends,
    required,
    first,
    span,
):
    licences = Licences(
        registration_status=status,
        registration_expires_on=registration_ends,
        ims_certified_on=certified,
        ims_certification_expires_on=certificate_ends,
        needling_authorised_on=authorised,
        needling_authorisation_expires_on=authorisation_ends,
    )
    last = first + dt.timedelta(days=span)
    allowed = [
        first + dt.timedelta(days=n)
        for n in range(span + 1)
        if may_needle(licences, first + dt.timedelta(days=n), authorisation_required=required)
    ]
    found = first_needling_day(licences, first, last, authorisation_required=required)
    assert found == (allowed[0] if allowed else None)


# --- the owner's settings ---------------------------------------------------------------


@pytest.mark.django_db
def test_the_owner_is_warned_when_no_registration_expiry_is_recorded(owner, physio):
    practitioner = physio.practitioner
    client = signed_in(owner)
    change = reverse("owner_admin:clinic_practitioner_change", args=[practitioner.pk])
    text = client.get(change).content.decode()
    assert "No registration expiry is recorded for Tara Treating" in text
    listing = client.get(reverse("owner_admin:clinic_practitioner_changelist")).content.decode()
    assert "No registration expiry recorded: please add it." in listing

    practitioner.registration_expires_on = timezone.localdate() + dt.timedelta(days=200)
    practitioner.save()
    assert "No registration expiry is recorded" not in client.get(change).content.decode()
    listing = client.get(reverse("owner_admin:clinic_practitioner_changelist")).content.decode()
    assert "All current" in listing


def admin_form(practitioner: Practitioner, **changes: str) -> dict[str, object]:
    """The practitioner's change form as the admin page posts it."""
    data: dict[str, object] = {
        "first_name": practitioner.first_name,
        "last_name": practitioner.last_name,
        "title": practitioner.title,
        "slug": practitioner.slug,
        "user": str(practitioner.user_id or ""),
        "is_active": "on",
        "order": "0",
        "profession": practitioner.profession,
        "registration_body": practitioner.registration_body,
        "registration_number": practitioner.registration_number,
        "registration_status": practitioner.registration_status,
        "registration_expires_on": "",
        "ims_certification_issuer": practitioner.ims_certification_issuer,
        "ims_certified_on": practitioner.ims_certified_on.isoformat()
        if practitioner.ims_certified_on
        else "",
        "ims_certification_expires_on": "",
        "ims_practice_since": str(practitioner.ims_practice_since or ""),
        "needling_authorisation_body": "",
        "needling_authorisation_number": "",
        "needling_authorised_on": "",
        "needling_authorisation_expires_on": "",
        "bio": practitioner.bio,
        "locations": [str(place.pk) for place in practitioner.locations.all()],
    }
    return data | changes


@pytest.mark.django_db
def test_the_owner_records_an_authorisation_and_an_expiry_before_the_grant_is_refused(
    owner, physio
):
    practitioner = physio.practitioner
    change = reverse("owner_admin:clinic_practitioner_change", args=[practitioner.pk])
    client = signed_in(owner)
    refused = client.post(
        change,
        admin_form(
            practitioner,
            needling_authorisation_body="Physiotherapy Alberta",
            needling_authorisation_number="RA-1001",
            needling_authorised_on="2024-05-01",
            needling_authorisation_expires_on="2024-04-01",
        ),
    )
    assert refused.status_code == 200
    assert "The expiry must be after the day it was granted." in refused.content.decode()
    practitioner.refresh_from_db()
    assert practitioner.needling_authorised_on is None

    incomplete = client.post(change, admin_form(practitioner, needling_authorised_on="2024-05-01"))
    assert "Say who granted the authorisation." in incomplete.content.decode()

    saved = client.post(
        change,
        admin_form(
            practitioner,
            registration_status="practising",
            registration_expires_on="2031-01-01",
            needling_authorisation_body="Physiotherapy Alberta",
            needling_authorisation_number="RA-1001",
            needling_authorised_on="2024-05-01",
        ),
    )
    assert saved.status_code == 302
    practitioner.refresh_from_db()
    assert practitioner.needling_authorised_on == dt.date(2024, 5, 1)
    assert practitioner.registration_expires_on == dt.date(2031, 1, 1)
