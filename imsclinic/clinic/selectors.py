"""Reads of the clinic's configuration and needle stock that pages and services share."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import connection
from django.db.models import Count, F, ForeignKey, Max, Min, Q, QuerySet, Sum
from django.db.models.functions import TruncWeek
from django.utils import formats

from imsclinic.clinic.models import (
    Clinic,
    Location,
    NeedleLot,
    NeedleStockLevel,
    Practitioner,
    Service,
    SharpsContainer,
)
from imsclinic.core.permissions import is_owner
from imsclinic.core.sql import ModelColumns
from imsclinic.patients.access import patients_visible_to

if TYPE_CHECKING:
    from imsclinic.accounts.models import User


_PRACTITIONER = ModelColumns(Practitioner, "p")
_LOCATION = ModelColumns(Location, "l")
_CLINIC = ModelColumns(Clinic, "c")
_SERVICE = ModelColumns(Service, "s")
_WORKS_AT = ModelColumns(Practitioner.locations.through, "pl")


def practitioner_places(practitioner_id: int) -> tuple[Practitioner | None, list[Location]]:
    """Return an active practitioner and the active locations they work at, in one read.

    Each location comes with its clinic (a booking's reminder reads the clinic's settings).
    (None, []) when the practitioner is inactive, unknown or works at no active location.
    Written out in SQL (`core.sql.ModelColumns`): the same read through the ORM's joins cost a
    booking about 1.5 ms of building and compiling, eight times the read itself.
    """
    who, where, clinic, link = _PRACTITIONER, _LOCATION, _CLINIC, _WORKS_AT
    sql = (
        f"SELECT {who.select()}, {where.select()}, {clinic.select()}"  # noqa: S608
        f" FROM {link.table()}"
        f" INNER JOIN {who.table()} ON {who.column('id')} = {link.column('practitioner')}"
        f" INNER JOIN {where.table()} ON {where.column('id')} = {link.column('location')}"
        f" INNER JOIN {clinic.table()} ON {clinic.column('id')} = {where.column('clinic')}"
        f" WHERE {link.column('practitioner')} = %s AND {who.column('is_active')}"
        f" AND {where.column('is_active')} ORDER BY {where.column('id')}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [practitioner_id])
        rows = cursor.fetchall()
    if not rows:
        return None, []
    practitioner = _PRACTITIONER.read(rows[0])
    clinic_field = Location._meta.get_field("clinic")
    assert isinstance(clinic_field, ForeignKey)
    places = []
    for row in rows:
        place = _LOCATION.read(row, _PRACTITIONER.width)
        clinic_field.set_cached_value(
            place, _CLINIC.read(row, _PRACTITIONER.width + _LOCATION.width)
        )
        places.append(place)
    return practitioner, places


def bookable_service(slug: str, *, online_only: bool) -> Service | None:
    """Return the active service with this slug (only one patients may book online, if asked)."""
    online = " AND s.bookable_online" if online_only else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {_SERVICE.select()} FROM {_SERVICE.table()}"  # noqa: S608
            f" WHERE s.slug = %s AND s.is_active{online} ORDER BY s.id LIMIT 1",
            [slug],
        )
        row = cursor.fetchone()
    return None if row is None else _SERVICE.read(row)


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
class SizeLine:
    """One needle size: what its usable lots hold and the owner's low-stock level."""

    diameter_mm: Decimal
    length_mm: int
    on_hand: int  # in lots usable on the day
    usable_lots: int
    warn_below: int | None

    @property
    def size_label(self) -> str:
        return f"{self.diameter_mm:.2f} x {self.length_mm} mm"

    @property
    def is_low(self) -> bool:
        return self.warn_below is not None and self.on_hand < self.warn_below


def _size(diameter: Decimal, length: int) -> tuple[Decimal, int]:
    return (Decimal(diameter).quantize(Decimal("0.01")), int(length))


def stock_by_size(lines: list[LotLine]) -> list[SizeLine]:
    """Return every size ever received, thinnest and shortest first, from the lot lines.

    One query more (the levels): the lots are the ones `stock_overview` read.
    """
    levels = {
        _size(level.diameter_mm, level.length_mm): level.warn_below
        for level in NeedleStockLevel.objects.all()
    }
    totals: dict[tuple[Decimal, int], list[int]] = {}
    for line in lines:
        entry = totals.setdefault(_size(line.lot.diameter_mm, line.lot.length_mm), [0, 0])
        if line.status == "usable":
            entry[0] += line.lot.quantity_on_hand
            entry[1] += 1
    return [
        SizeLine(
            diameter_mm=size[0],
            length_mm=size[1],
            on_hand=on_hand,
            usable_lots=usable,
            warn_below=levels.get(size),
        )
        for size, (on_hand, usable) in sorted(totals.items())
    ]


@dataclass(frozen=True)
class WeeklyUse:
    """Needles used per week (Monday first, in the clinic's zone) and size, drafts included."""

    weeks: list[dt.date]  # oldest first
    sizes: list[str]
    counts: dict[tuple[dt.date, str], int]

    def rows(self) -> list[tuple[dt.date, list[int], int]]:
        """Return each week with its count per size (in `sizes` order) and its total."""
        table = []
        for week in self.weeks:
            cells = [self.counts.get((week, size), 0) for size in self.sizes]
            table.append((week, cells, sum(cells)))
        return table


WEEKS_OF_USE = 8


def weekly_use(on: dt.date, *, weeks: int = WEEKS_OF_USE) -> WeeklyUse:
    """Return the needles used in each of the last `weeks` weeks up to `on`, by visit date.

    One grouped query over the needling rows of visits from the first Monday on.
    """
    zone = clinic_zone()
    this_monday = on - dt.timedelta(days=on.weekday())
    first = this_monday - dt.timedelta(weeks=weeks - 1)
    since = dt.datetime.combine(first, dt.time(), zone)
    until = dt.datetime.combine(on + dt.timedelta(days=1), dt.time(), zone)
    start = "needling_rows__session__appointment__start"
    grouped = (
        NeedleLot.objects.filter(**{f"{start}__gte": since, f"{start}__lt": until})
        .annotate(week=TruncWeek(start, tzinfo=zone))
        .values("week", "diameter_mm", "length_mm")
        .annotate(needles=Sum("needling_rows__needles_used"))
        .order_by()
    )
    counts: dict[tuple[dt.date, str], int] = {}
    sizes: set[tuple[Decimal, int]] = set()
    for item in grouped:
        week = item["week"]
        day = week.astimezone(zone).date() if isinstance(week, dt.datetime) else week
        size = _size(item["diameter_mm"], item["length_mm"])
        sizes.add(size)
        label = f"{size[0]:.2f} x {size[1]} mm"
        counts[(day, label)] = counts.get((day, label), 0) + (item["needles"] or 0)
    return WeeklyUse(
        weeks=[first + dt.timedelta(weeks=n) for n in range(weeks)],
        sizes=[f"{d:.2f} x {length} mm" for d, length in sorted(sizes)],
        counts=counts,
    )


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
    needles: int
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
            needle_total=Sum("needles_used"),
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
            needles=item["needle_total"] or 0,
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
