"""The staff invitations and API tokens pages read the same number of queries however many."""

from __future__ import annotations

import pytest
from django.urls import reverse

from imsclinic.accounts.models import User
from imsclinic.accounts.services import staff_invite
from imsclinic.accounts.tokens import api_token_issue
from imsclinic.core.roles import Role
from tests.factories.clients import signed_in

pytestmark = pytest.mark.django_db

SIZES = [10, 100]


# A signed-in page's own reads, the form's choices, and the invitations read once with who
# sent them and what they became.
@pytest.mark.parametrize("count", SIZES)
def test_the_invitations_page_reads_the_same_number_of_queries_for_10_invitations_as_for_100(
    count: int, owner: User, django_assert_num_queries
) -> None:
    for n in range(count):
        staff_invite(email=f"new{n}@cedar.example", role=Role.FRONT_DESK, actor=owner)
    client = signed_in(owner)
    with django_assert_num_queries(7):
        response = client.get(reverse("invite_staff"))
    assert response.status_code == 200
    assert response.content.decode().count("@cedar.example</td>") >= count


# A signed-in page's own reads and the user's tokens, read once.
@pytest.mark.parametrize("count", SIZES)
def test_the_api_tokens_page_reads_the_same_number_of_queries_for_10_tokens_as_for_100(
    count: int, front_desk: User, django_assert_num_queries
) -> None:
    for n in range(count):
        api_token_issue(user=front_desk, name=f"Script {n}", actor=front_desk)
    client = signed_in(front_desk)
    with django_assert_num_queries(5):
        response = client.get(reverse("api_tokens"))
    assert response.status_code == 200
    text = response.content.decode()
    assert "Script 0" in text and f"Script {count - 1}" in text
