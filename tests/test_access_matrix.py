"""Every page, every member of the standard cast: who gets in, who is refused, who is told nothing.

The table below is the whole access policy as people meet it. A page added to the app
without a row here fails `test_every_page_is_in_the_matrix`, so none can slip past.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from imsclinic.accounts.models import ApiToken, Role, StaffInvitation, hash_secret

pytestmark = pytest.mark.django_db

CAST = ("anonymous", "patient", "other_patient", "front_desk", "physio", "other_physio", "owner")
PUBLIC = dict.fromkeys(CAST, 200)
LOGIN = 302  # sent to sign in
STAFF_ONLY = {
    "anonymous": LOGIN,
    "patient": 403,
    "other_patient": 403,
    "front_desk": 200,
    "physio": 200,
    "other_physio": 200,
    "owner": 200,
}
OWNER_ONLY = {
    "anonymous": LOGIN,
    "patient": 403,
    "other_patient": 403,
    "front_desk": 403,
    "physio": 403,
    "other_physio": 403,
    "owner": 200,
}

Args = Callable[[dict[str, Any]], dict[str, Any]]


def none(_: dict[str, Any]) -> dict[str, Any]:
    return {}


# url name -> (how to fill its arguments, expected status of a GET by each member of the cast)
MATRIX: dict[str, tuple[Args, dict[str, int]]] = {
    "home": (none, PUBLIC),
    "what_is_ims": (none, PUBLIC),
    "safety": (none, PUBLIC),
    "ims_vs_dry_needling": (none, PUBLIC),
    "faq": (none, PUBLIC),
    "practitioners": (none, PUBLIC),
    "practitioner_detail": (lambda w: {"slug": w["physio"].practitioner.slug}, PUBLIC),
    "locations": (none, PUBLIC),
    "book": (none, PUBLIC),
    # Where a sign-in lands: staff to the patient list, patients to their portal.
    "after_login": (none, {**dict.fromkeys(CAST, 302)}),
    "account_settings": (none, {**dict.fromkeys(CAST, 200), "anonymous": LOGIN}),
    "portal_home": (
        none,
        {
            "anonymous": LOGIN,
            "patient": 200,
            "other_patient": 200,
            "front_desk": 302,
            "physio": 302,
            "other_physio": 302,
            "owner": 302,
        },
    ),
    "patient_list": (none, STAFF_ONLY),
    "patient_new": (none, {**OWNER_ONLY, "front_desk": 200}),
    # Someone else's record: a 404 that says nothing about whether it exists.
    "patient_detail": (
        lambda w: {"patient_id": w["patient_record"].pk},
        {
            "anonymous": LOGIN,
            "patient": 404,
            "other_patient": 404,
            "front_desk": 200,
            "physio": 200,
            "other_physio": 404,
            "owner": 200,
        },
    ),
    "patient_edit": (
        lambda w: {"patient_id": w["patient_record"].pk},
        {
            "anonymous": LOGIN,
            "patient": 404,
            "other_patient": 404,
            "front_desk": 200,
            "physio": 403,
            "other_physio": 404,
            "owner": 200,
        },
    ),
    "audit_log": (none, OWNER_ONLY),
    "audit_log_csv": (none, OWNER_ONLY),
    "invite_staff": (none, OWNER_ONLY),
    # Revoking is a POST; a GET is refused whoever asks.
    "revoke_invitation": (
        lambda w: {"invitation_id": w["invitation"].pk},
        dict.fromkeys(CAST, 405),
    ),
    # An invitation link works for whoever holds it, signed in or not.
    "accept_invitation": (lambda w: {"token": w["invitation_token"]}, PUBLIC),
    "api_tokens": (none, STAFF_ONLY),
    # The front desk's own token: only its holder sees the revoke page.
    "api_token_revoke": (
        lambda w: {"token_id": w["desk_token"].pk},
        {
            "anonymous": LOGIN,
            "patient": 403,
            "other_patient": 403,
            "front_desk": 200,
            "physio": 404,
            "other_physio": 404,
            "owner": 404,
        },
    ),
    # /manage/ has no sign-in of its own: it sends people to allauth's.
    # Clinic settings (Django's admin views, so listed by hand): the owner's alone. Anyone
    # else is sent to /manage/login/, which refuses the signed-in (row below).
    "owner_admin:index": (none, {**dict.fromkeys(CAST, 302), "owner": 200}),
    "owner_admin:clinic_practitioner_changelist": (
        none,
        {**dict.fromkeys(CAST, 302), "owner": 200},
    ),
    "owner_admin:login": (none, {**dict.fromkeys(CAST, 403), "anonymous": LOGIN}),
}


def our_url_names() -> set[str]:
    """Return the names of every URL whose view is imsclinic code."""
    names: set[str] = set()

    def walk(patterns: list[URLPattern | URLResolver], namespace: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                walk(pattern.url_patterns, inner)
            elif pattern.callback.__module__.startswith("imsclinic") and pattern.name:
                names.add(namespace + pattern.name)

    walk(get_resolver().url_patterns, "")
    return names


def test_every_page_is_in_the_matrix():
    assert our_url_names() <= set(MATRIX)


@pytest.fixture
def world(cast, patient, owner, front_desk):
    raw = "invitation-token-for-the-matrix"
    invitation = StaffInvitation.objects.create(
        email="newcomer@cedar.example",
        role=Role.FRONT_DESK,
        token_hash=hash_secret(raw),
        invited_by=owner,
        expires_at=timezone.now() + dt.timedelta(days=7),
    )
    desk_token = ApiToken.objects.create(
        user=front_desk, name="laptop", token_hash=hash_secret("ims_matrix"), hint="ims_matr"
    )
    return {
        **cast,
        "patient_record": patient,
        "invitation": invitation,
        "invitation_token": raw,
        "desk_token": desk_token,
    }


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_each_member_of_the_cast_gets_what_the_policy_says(world, name):
    args, expected = MATRIX[name]
    url = reverse(name, kwargs=args(world))
    got = {}
    for who in CAST:
        client = Client()
        if world[who] is not None:
            client.force_login(world[who])
        got[who] = client.get(url).status_code
    assert got == expected
