"""`core.sql.among_ids` picks out the same rows as `__in` with a list, on either database."""

from __future__ import annotations

import pytest

from imsclinic.core.sql import among_ids
from imsclinic.patients.models import Patient

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("which", ["none", "one", "both", "unknown too"])
def test_among_ids_finds_exactly_the_rows_a_list_would(patient, other_patient, which):
    ids = {
        "none": [],
        "one": [patient.pk],
        "both": [patient.pk, other_patient.pk],
        "unknown too": [other_patient.pk, 999_999_999],
    }[which]

    found = set(Patient.objects.filter(among_ids("pk", ids)).values_list("pk", flat=True))

    assert found == set(Patient.objects.filter(pk__in=ids).values_list("pk", flat=True))


def test_among_ids_follows_a_relation(patient, other_patient):
    from imsclinic.accounts.models import User

    users = User.objects.filter(among_ids("patient__id", [patient.pk]))

    assert list(users) == [patient.user]
