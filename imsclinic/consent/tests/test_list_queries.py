"""The consent forms page reads the same number of queries however many versions it lists."""

from __future__ import annotations

import pytest
from django.urls import reverse

from imsclinic.accounts.models import User
from imsclinic.consent.services import consent_document_create
from tests.factories.clients import signed_in
from tests.factories.consent import publish_version

pytestmark = pytest.mark.django_db

VERSIONS_PER_DOCUMENT = 5


# Session, user, MFA, the clinic for the header, the documents, their versions.
@pytest.mark.parametrize("count", [10, 100])
def test_the_consent_forms_page_reads_the_same_number_of_queries_for_10_versions_as_for_100(
    count: int, owner: User, django_assert_num_queries
) -> None:
    for d in range(count // VERSIONS_PER_DOCUMENT):
        document = consent_document_create(slug=f"form-{d}", title=f"Form {d}", actor=owner)
        for _v in range(VERSIONS_PER_DOCUMENT):
            publish_version(document, owner, title=f"Form {d}")
    client = signed_in(owner)
    with django_assert_num_queries(7):
        response = client.get(reverse("consent_admin"))
    assert response.status_code == 200
    assert response.content.decode().count("/staff/consent/versions/") == count
