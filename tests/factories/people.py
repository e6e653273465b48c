"""The people in a test: users with a verified email and, for staff, an authenticator;
many patients at once."""

from __future__ import annotations

import datetime as dt

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator

from imsclinic.accounts.models import User
from imsclinic.clinic.models import Location, Practitioner
from imsclinic.core.roles import Role
from imsclinic.patients.models import Patient

PASSWORD = "correct-horse-battery-staple"
STAND_IN_SECRET = "JBSWY3DPEHPK3PXP"  # the authenticator make_user gives staff


def make_user(email: str, role: str, *, mfa: bool = True, first: str = "", last: str = "") -> User:
    user = User.objects.create_user(email, PASSWORD, role=role, first_name=first, last_name=last)
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    if mfa and role != Role.PATIENT:
        # A stand-in authenticator row: tests of MFA enrolment create real ones.
        Authenticator.objects.create(
            user=user, type=Authenticator.Type.TOTP, data={"secret": STAND_IN_SECRET}
        )
    return user


def make_practitioner(user: User, location: Location, slug: str, reg: str) -> Practitioner:
    practitioner = Practitioner.objects.create(
        user=user,
        first_name=user.first_name,
        last_name=user.last_name,
        slug=slug,
        registration_body="College of Physical Therapists of BC",
        registration_number=reg,
        ims_certification_issuer="iSTOP",
        ims_certified_on=dt.date(2012, 6, 1),
        ims_practice_since=2012,
    )
    practitioner.locations.add(location)
    return practitioner


def many_patients(count: int, family_name: str) -> list[Patient]:
    """Add `count` patients in one INSERT: Given0 to Given{count-1}, each a phone of their own."""
    return Patient.objects.bulk_create(
        Patient(
            given_name=f"Given{n}",
            family_name=family_name,
            date_of_birth=dt.date(1970, 1, 1) + dt.timedelta(days=n),
            phone=f"604-555-{n:04d}",
        )
        for n in range(count)
    )
