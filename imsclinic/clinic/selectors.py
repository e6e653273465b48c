"""Reads of the clinic's configuration and needle stock that pages and services share."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import Count, F, Max, Min, Q, QuerySet, Sum
from django.utils import formats

from imsclinic.clinic.models import Location, NeedleLot, SharpsContainer
from imsclinic.core.permissions import is_owner
from imsclinic.patients.access import patients_visible_to

if TYPE_CHECKING:
    from imsclinic.accounts.models import User


def clinic_zone() -> zoneinfo.ZoneInfo:
    """Return the zone the clinic's own records are shown in: its first open location's."""
    zone = (
        Location.objects.filter(is_active=True).values_list("time_zone", flat=True).first()
        or Location.objects.values_list("time_zone", flat=True).first()
    )
    return zoneinfo.ZoneInfo(zone or "UTC")


def clinic_date_text(moment: dt.datetime, zone: zoneinfo.ZoneInfo | None = None) -> str:
    """Return the clinic's calendar day of a moment (not the server's UTC day), e.g. 2 May 2026."""
    return formats.date_format(moment.astimezone(zone or clinic_zone()), "j F Y")


def usable_lots(on: dt.date) -> QuerySet[NeedleLot]:
    """Return the needle lots that may be used on the given day: not expired, not recalled.

    A lot is usable up to and including its expiry date (the "use by" date on the box).
    """
    return NeedleLot.objects.filter(recalled_at__isnull=True, expires_on__gte=on).order_by(
        "diameter_mm", "length_mm", "expires_on", "lot_number"
    )


@dataclass(frozen=True)
class LotLine:
    lot: NeedleLot
    status: str  # "usable", "expired" or "recalled"
    rows: int  # needling rows recorded with this lot
    insertions: int


def stock_overview(on: dt.date) -> list[LotLine]:
    """Return every lot with what it is on the day and how much it has been used, newest first."""
    lots = NeedleLot.objects.annotate(
        row_count=Count("needling_rows"), insertion_total=Sum("needling_rows__insertions")
    ).order_by("-received_on", "-pk")
    return [
        LotLine(
            lot=lot,
            status=lot.status_on(on),
            rows=lot.row_count,  # type: ignore[attr-defined]
            insertions=lot.insertion_total or 0,  # type: ignore[attr-defined]
        )
        for lot in lots
    ]


@dataclass(frozen=True)
class LotPatient:
    patient_id: int
    name: str
    date_of_birth: dt.date
    phone: str
    email: str
    sessions: int
    unsigned_sessions: int
    insertions: int
    first_visit: dt.datetime
    last_visit: dt.datetime


@dataclass(frozen=True)
class LotTrace:
    lot: NeedleLot
    patients: list[LotPatient]
    # Patients needled with the lot whose records this user may not open (a practitioner
    # sees only their care team's patients; the owner sees everyone).
    not_shown: int


def lot_patients(lot: NeedleLot, *, user: User) -> LotTrace:
    """Return the patients needled with this lot, signed notes and drafts alike, by name.

    Drafts count: a draft note still records needles that went into a patient, and a recall
    must reach everyone exposed.
    """
    rows = lot.needling_rows.all()
    shown = rows
    not_shown = 0
    if not is_owner(user):
        visible = patients_visible_to(user).values("pk")
        shown = rows.filter(session__patient__in=visible)
        not_shown = (
            rows.exclude(session__patient__in=visible).values("session__patient").distinct().count()
        )
    grouped = (
        shown.values(
            "session__patient_id",
            "session__patient__given_name",
            "session__patient__family_name",
            "session__patient__date_of_birth",
            "session__patient__phone",
            "session__patient__email",
            "session__patient__user__email",
        )
        .annotate(
            session_count=Count("session", distinct=True),
            # A note is signed exactly when it has a signing time (the session's constraint).
            unsigned=Count("session", filter=Q(session__signed_at__isnull=True), distinct=True),
            insertion_total=Sum("insertions"),
            first=Min("session__appointment__start"),
            last=Max("session__appointment__start"),
        )
        .order_by(
            "session__patient__family_name", "session__patient__given_name", "session__patient_id"
        )
    )
    patients = [
        LotPatient(
            patient_id=item["session__patient_id"],
            name=f"{item['session__patient__given_name']} {item['session__patient__family_name']}",
            date_of_birth=item["session__patient__date_of_birth"],
            phone=item["session__patient__phone"],
            email=item["session__patient__email"] or item["session__patient__user__email"] or "",
            sessions=item["session_count"],
            unsigned_sessions=item["unsigned"],
            insertions=item["insertion_total"] or 0,
            first_visit=item["first"],
            last_visit=item["last"],
        )
        for item in grouped
    ]
    return LotTrace(lot=lot, patients=patients, not_shown=not_shown)


def sharps_log() -> QuerySet[SharpsContainer]:
    """Return the sharps containers, open ones first, with who handled them."""
    return SharpsContainer.objects.select_related("location", "opened_by", "sealed_by").order_by(
        F("collected_at").desc(nulls_first=True),
        F("sealed_at").desc(nulls_first=True),
        "-opened_at",
        "-pk",
    )
