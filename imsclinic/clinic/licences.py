"""Whether a practitioner may needle on a day at a location: the licences that gate practice.

Pure rules, no database. `Practitioner.needling_gaps` gathers a practitioner's licences and
the location's rule and asks `needling_gaps` here; the booking engine
(`scheduling.availability`), starting an IMS visit and signing a needling note all ask the
same question through it, so they can never disagree.

Three licences, each valid from a first day up to (not including) the day it expires:

- the college registration: its status must be "practising"; an expiry not recorded is
  treated as current (the owner is warned, see `registration_expiry_unknown`), because
  existing practitioners had none recorded and refusing them all would be a guess too;
- the IMS certificate: certified on or before the day, and not expired (no expiry: lifelong);
- the needling authorisation, only where the location's province requires one: granted on
  or before the day, and not expired (no expiry: it lasts while the registration does).

Where a separate authorisation is required is a small table below with its source; an owner
can also require it for a location (`Location.requires_needling_authorisation`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from django.db import models
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _


class RegistrationStatus(models.TextChoices):
    PRACTISING = "practising", _("Practising")
    NON_PRACTISING = "non_practising", _("Non-practising")
    SUSPENDED = "suspended", _("Suspended")
    LAPSED = "lapsed", _("Lapsed")


class Licence(models.TextChoices):
    """A licence that gates needling; the value is stored with each expiry reminder sent."""

    REGISTRATION = "registration", _("college registration")
    IMS_CERTIFICATE = "ims_certificate", _("IMS certificate")
    NEEDLING_AUTHORISATION = "needling_authorisation", _("needling authorisation")


# Provinces whose physiotherapy college requires a separate authorisation before a
# physiotherapist may needle, by the two-letter code and the names a location may be written
# with. Source: Physiotherapy Alberta College + Association, which authorises needling as a
# restricted activity separately from registration (shared/domain/ims-practice.md, "Who may
# do it"). Other provinces are not listed until their college's rule is checked; an owner can
# still require the authorisation for any location.
AUTHORISATION_PROVINCES: dict[str, frozenset[str]] = {
    "AB": frozenset({"ab", "alberta", "alta"}),
}


def province_requires_authorisation(region: str) -> bool:
    """Say whether the province written on a location requires a needling authorisation."""
    written = region.strip().lower().replace(".", "")
    return any(written in names for names in AUTHORISATION_PROVINCES.values())


@dataclass(frozen=True)
class Licences:
    """What is recorded about one practitioner's licences (dates as stored)."""

    registration_status: str = RegistrationStatus.PRACTISING
    registration_expires_on: dt.date | None = None
    ims_certified_on: dt.date | None = None
    ims_certification_expires_on: dt.date | None = None
    needling_authorised_on: dt.date | None = None
    needling_authorisation_expires_on: dt.date | None = None

    def expiries(self) -> dict[Licence, dt.date]:
        """Return each recorded licence's expiry day (the first day it is no longer valid)."""
        found: dict[Licence, dt.date] = {}
        if self.registration_expires_on is not None:
            found[Licence.REGISTRATION] = self.registration_expires_on
        if self.ims_certified_on is not None and self.ims_certification_expires_on is not None:
            found[Licence.IMS_CERTIFICATE] = self.ims_certification_expires_on
        if (
            self.needling_authorised_on is not None
            and self.needling_authorisation_expires_on is not None
        ):
            found[Licence.NEEDLING_AUTHORISATION] = self.needling_authorisation_expires_on
        return found


class Why(StrEnum):
    MISSING = "missing"
    NOT_YET = "not_yet"
    EXPIRED = "expired"
    STATUS = "status"


@dataclass(frozen=True)
class Gap:
    """One licence that is not current on the day, and why."""

    licence: Licence
    why: Why
    on: dt.date | None = None  # the day it starts or expired
    status: str = ""

    def sentence(self) -> str:
        """Say plainly what is wrong, e.g. "The college registration expired on 1 May 2026."."""
        name = str(self.licence.label)
        when = date_format(self.on, "DATE_FORMAT") if self.on else ""
        if self.why == Why.STATUS:
            label = dict(RegistrationStatus.choices).get(self.status, self.status)
            return str(_("The %(name)s is %(status)s, not practising.")) % {
                "name": name,
                "status": str(label).lower(),
            }
        if self.why == Why.EXPIRED:
            return str(_("The %(name)s expired on %(day)s.")) % {"name": name, "day": when}
        if self.why == Why.NOT_YET:
            return str(_("The %(name)s is valid only from %(day)s.")) % {"name": name, "day": when}
        return str(_("No %(name)s is recorded.")) % {"name": name}


def needling_gaps(
    licences: Licences, day: dt.date, *, authorisation_required: bool
) -> tuple[Gap, ...]:
    """Return the licences that stop needling on the day (none: the practitioner may needle)."""
    gaps: list[Gap] = []
    if licences.registration_status != RegistrationStatus.PRACTISING:
        gaps.append(Gap(Licence.REGISTRATION, Why.STATUS, status=str(licences.registration_status)))
    elif licences.registration_expires_on is not None and day >= licences.registration_expires_on:
        gaps.append(Gap(Licence.REGISTRATION, Why.EXPIRED, licences.registration_expires_on))
    gap = _dated(
        Licence.IMS_CERTIFICATE,
        licences.ims_certified_on,
        licences.ims_certification_expires_on,
        day,
    )
    if gap is not None:
        gaps.append(gap)
    if authorisation_required:
        gap = _dated(
            Licence.NEEDLING_AUTHORISATION,
            licences.needling_authorised_on,
            licences.needling_authorisation_expires_on,
            day,
        )
        if gap is not None:
            gaps.append(gap)
    return tuple(gaps)


def _dated(
    licence: Licence, since: dt.date | None, until: dt.date | None, day: dt.date
) -> Gap | None:
    if since is None:
        return Gap(licence, Why.MISSING)
    if day < since:
        return Gap(licence, Why.NOT_YET, since)
    if until is not None and day >= until:
        return Gap(licence, Why.EXPIRED, until)
    return None


def may_needle(licences: Licences, day: dt.date, *, authorisation_required: bool) -> bool:
    return not needling_gaps(licences, day, authorisation_required=authorisation_required)


def first_needling_day(
    licences: Licences, first: dt.date, last: dt.date, *, authorisation_required: bool
) -> dt.date | None:
    """Return the first day from `first` to `last` on which the practitioner may needle."""
    # Every licence is valid over one stretch of days, so the earliest candidate is `first`
    # or the latest day a licence starts; if needling is refused then, it is refused after.
    starts = [first, licences.ims_certified_on or first]
    if authorisation_required:
        starts.append(licences.needling_authorised_on or first)
    day = max(starts)
    if day > last:
        return None
    return day if may_needle(licences, day, authorisation_required=authorisation_required) else None


def registration_expiry_unknown(licences: Licences) -> bool:
    """Say whether the registration has no expiry recorded (allowed, but the owner is told)."""
    return licences.registration_expires_on is None


def needling_refusal(gaps: tuple[Gap, ...], *, name: str, day: dt.date) -> str:
    """Return the sentence a refusal shows: who, which day, and each licence that is missing."""
    opening = str(_("%(name)s may not needle on %(day)s.")) % {
        "name": name,
        "day": date_format(day, "DATE_FORMAT"),
    }
    return " ".join([opening, *(gap.sentence() for gap in gaps)])


def reminder_due(
    expires_on: dt.date, today: dt.date, *, thresholds: tuple[int, ...], sent: set[int]
) -> int | None:
    """Return the threshold (days before expiry) to remind about today, or None.

    The nearest threshold the expiry is within is the one due, unless it was sent: a run
    missed on the 60th day still reminds on the 59th, and a licence first recorded 10 days
    before it expires gets only the 14-day reminder. Nothing is sent once it has expired.
    """
    left = (expires_on - today).days
    if left <= 0:
        return None
    within = [days for days in thresholds if left <= days]
    if not within:
        return None
    nearest = min(within)
    return None if nearest in sent else nearest
