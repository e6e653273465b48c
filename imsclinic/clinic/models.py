"""The clinic's own configuration: locations, beds, practitioners and services."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from imsclinic.clinic.licences import (
    Gap,
    Licence,
    Licences,
    RegistrationStatus,
    first_needling_day,
    needling_gaps,
    province_requires_authorisation,
)
from imsclinic.core.validators import SINGLE_LINE_MESSAGE, has_control_characters


def validate_time_zone(value: str) -> None:
    """Refuse anything that is not an IANA time zone name."""
    if value not in zoneinfo.available_timezones():
        raise ValidationError(
            _("%(value)s is not a known time zone. Use a name like America/Vancouver."),
            params={"value": value},
        )


class Clinic(models.Model):
    """The practice itself; there is one."""

    name = models.CharField(_("name"), max_length=120)
    tagline = models.CharField(_("tagline"), max_length=200, blank=True)
    email = models.EmailField(_("contact email"))
    phone = models.CharField(_("main phone"), max_length=40)
    website = models.URLField(_("website"), blank=True)
    currency = models.CharField(
        _("currency"), max_length=3, default="CAD", help_text=_("ISO 4217 code, e.g. CAD")
    )
    about = models.TextField(_("about the clinic"), blank=True)
    slot_step_minutes = models.PositiveSmallIntegerField(
        _("booking grid (minutes)"),
        default=15,
        validators=[MinValueValidator(5)],
        help_text=_("Appointments may start every this many minutes into a shift."),
    )
    late_cancellation_hours = models.PositiveSmallIntegerField(
        _("late-cancellation window (hours)"),
        default=24,
        help_text=_("Patients cannot cancel online closer than this to the visit."),
    )
    reminder_hours = models.PositiveSmallIntegerField(
        _("reminder (hours before the visit)"),
        default=24,
        validators=[MinValueValidator(1)],
        help_text=_("Patients are emailed a reminder this long before each visit."),
    )
    intake_valid_months = models.PositiveSmallIntegerField(
        _("health questions stay current for (months)"),
        default=6,
        validators=[MinValueValidator(1)],
        help_text=_(
            "After this many months a patient re-confirms their health questions before the "
            "next IMS visit."
        ),
    )
    checkin_hours = models.PositiveSmallIntegerField(
        _("follow-up check-in (hours after needling)"),
        default=24,
        validators=[MinValueValidator(1), MaxValueValidator(72)],
        help_text=_(
            "After each signed IMS session the patient is sent a short check-in about how "
            "they feel, this long after the visit ended."
        ),
    )
    checkin_answer_hours = models.PositiveSmallIntegerField(
        _("check-in unanswered after (hours)"),
        default=48,
        validators=[MinValueValidator(1), MaxValueValidator(168)],
        help_text=_(
            "A check-in not answered this long after it was sent appears on the front desk's "
            "follow-up list, so someone phones the patient."
        ),
    )
    treatment_early_minutes = models.PositiveSmallIntegerField(
        _("treatment may start early by (minutes)"),
        default=30,
        validators=[MaxValueValidator(240)],
        help_text=_(
            'A visit can be moved to "in treatment" from this long before its start time, '
            "never earlier. Check-in opens on the visit's day."
        ),
    )
    assessment_valid_months = models.PositiveSmallIntegerField(
        _("a Gunn assessment stays current for (months)"),
        default=12,
        validators=[MinValueValidator(1), MaxValueValidator(120)],
        help_text=_(
            "The first needling of a course needs a signed Gunn assessment signed within this "
            "many months before the visit, or a recorded reason why not."
        ),
    )
    measures_every_visits = models.PositiveSmallIntegerField(
        _("repeat questionnaires every (visits)"),
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(20)],
        help_text=_(
            "The activity scale (PSFS) and the body-region questionnaire are asked at the "
            "first visit and again every this many IMS visits."
        ),
    )

    legal_name = models.CharField(
        _("legal name"),
        max_length=200,
        blank=True,
        help_text=_("As registered; printed on invoices and receipts. Empty: the name above."),
    )
    legal_address = models.TextField(
        _("address on invoices"),
        blank=True,
        max_length=500,
        help_text=_("Empty: each invoice shows the address of the location of the visit."),
    )
    business_number = models.CharField(
        _("business number (GST/HST)"),
        max_length=40,
        blank=True,
        help_text=_("Printed on invoices and receipts, e.g. 123456789 RT0001."),
    )
    invoice_footer = models.TextField(
        _("text at the foot of invoices"),
        blank=True,
        max_length=1000,
        help_text=_("Payment terms, how to pay by e-transfer, a thank-you."),
    )

    class Meta:
        verbose_name = _("clinic")
        verbose_name_plural = _("clinic")

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        self.currency = self.currency.upper()
        if len(self.currency) != 3 or not self.currency.isalpha():
            raise ValidationError({"currency": _("Use a three-letter ISO 4217 code, e.g. CAD.")})

    @classmethod
    def current(cls) -> Clinic | None:
        """Return the clinic, or None before it is set up."""
        return cls.objects.order_by("pk").first()


class Location(models.Model):
    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="locations")
    name = models.CharField(_("name"), max_length=120)
    slug = models.SlugField(_("short name in links"), unique=True)
    address_line1 = models.CharField(_("address"), max_length=200)
    address_line2 = models.CharField(_("address line 2"), max_length=200, blank=True)
    city = models.CharField(_("city"), max_length=100)
    region = models.CharField(_("province or state"), max_length=100)
    postal_code = models.CharField(_("postal code"), max_length=20)
    country = models.CharField(_("country"), max_length=2, default="CA")
    phone = models.CharField(_("phone"), max_length=40)
    time_zone = models.CharField(
        _("time zone"),
        max_length=64,
        validators=[validate_time_zone],
        help_text=_("IANA name, e.g. America/Vancouver"),
    )
    directions = models.TextField(_("how to find us"), blank=True)
    is_active = models.BooleanField(_("open"), default=True)
    order = models.PositiveSmallIntegerField(default=0)
    requires_needling_authorisation = models.BooleanField(
        _("needling needs a separate authorisation here"),
        default=False,
        help_text=_(
            "Tick when the province's college requires an authorisation to needle on top of "
            "registration. Alberta locations always require it (Physiotherapy Alberta), "
            "ticked or not. Practitioners without a current authorisation are then not booked "
            "for IMS here."
        ),
    )

    class Meta:
        ordering = ("order", "name")

    def __str__(self) -> str:
        return self.name

    @property
    def needs_needling_authorisation(self) -> bool:
        """Say whether needling here needs a separate authorisation (the province, or the owner)."""
        return self.requires_needling_authorisation or province_requires_authorisation(self.region)

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    @property
    def zone_abbreviation(self) -> str:
        """Return the zone's short name as it is right now (PST or PDT, EST or EDT)."""
        return timezone.now().astimezone(self.zone).tzname() or self.time_zone


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class OpeningHours(models.Model):
    """One opening period on a weekday, in the location's own time zone."""

    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="hours")
    weekday = models.PositiveSmallIntegerField(_("day"), choices=Weekday.choices)
    opens = models.TimeField(_("opens"))
    closes = models.TimeField(_("closes"))

    class Meta:
        ordering = ("weekday", "opens")
        verbose_name_plural = _("opening hours")
        constraints = [
            models.CheckConstraint(
                condition=Q(closes__gt=models.F("opens")), name="hours_close_after_open"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens:%H:%M} to {self.closes:%H:%M}"

    def clean(self) -> None:
        if self.opens and self.closes and self.closes <= self.opens:
            raise ValidationError({"closes": _("Closing time must be after opening time.")})


class Room(models.Model):
    """A treatment room or bed that an appointment occupies."""

    class Kind(models.TextChoices):
        BED = "bed", _("Treatment bed")
        ROOM = "room", _("Room")

    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="rooms")
    name = models.CharField(_("name"), max_length=80)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.BED)
    is_active = models.BooleanField(_("in use"), default=True)

    class Meta:
        ordering = ("location", "name")
        constraints = [
            models.UniqueConstraint(
                fields=("location", "name"), name="room_name_unique_per_location"
            )
        ]

    def __str__(self) -> str:
        return f"{self.location.name} · {self.name}"


class Profession(models.TextChoices):
    PHYSIOTHERAPIST = "physiotherapist", _("Physiotherapist")
    PHYSICIAN = "physician", _("Physician")
    OTHER = "other", _("Other")


class Practitioner(models.Model):
    """A clinician the clinic books, with their registration and IMS credentials."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="practitioner",
    )
    first_name = models.CharField(_("first name"), max_length=100)
    last_name = models.CharField(_("last name"), max_length=100)
    slug = models.SlugField(_("short name in links"), unique=True)
    title = models.CharField(
        _("credentials after name"), max_length=80, blank=True, help_text=_("e.g. MPT, CAFCI")
    )
    profession = models.CharField(
        _("profession"),
        max_length=30,
        choices=Profession.choices,
        default=Profession.PHYSIOTHERAPIST,
    )
    registration_body = models.CharField(
        _("registration body"),
        max_length=160,
        help_text=_("The college the practitioner is registered with."),
    )
    registration_number = models.CharField(_("registration number"), max_length=60)
    registration_status = models.CharField(
        _("registration status"),
        max_length=20,
        choices=RegistrationStatus.choices,
        default=RegistrationStatus.PRACTISING,
        help_text=_("As the college's public register shows it. Only practising may needle."),
    )
    registration_expires_on = models.DateField(
        _("registration expires on"),
        null=True,
        blank=True,
        help_text=_(
            "The day the registration ends unless renewed: no IMS visits on or after it. "
            "Leave empty only if you do not know it yet; these settings warn until it is "
            "filled in."
        ),
    )
    ims_certification_issuer = models.CharField(
        _("IMS certification issued by"), max_length=160, blank=True
    )
    ims_certified_on = models.DateField(_("IMS certified on"), null=True, blank=True)
    ims_certification_expires_on = models.DateField(
        _("IMS certification expires on"),
        null=True,
        blank=True,
        help_text=_("Leave empty if it does not expire."),
    )
    needling_authorisation_body = models.CharField(
        _("needling authorised by"),
        max_length=160,
        blank=True,
        help_text=_(
            "Only where the province requires a separate authorisation to needle, e.g. "
            "Physiotherapy Alberta."
        ),
    )
    needling_authorisation_number = models.CharField(
        _("authorisation number or reference"), max_length=60, blank=True
    )
    needling_authorised_on = models.DateField(_("needling authorised on"), null=True, blank=True)
    needling_authorisation_expires_on = models.DateField(
        _("needling authorisation expires on"),
        null=True,
        blank=True,
        help_text=_(
            "No IMS visits on or after this day where the authorisation is needed. Leave empty "
            "if it lasts as long as the registration."
        ),
    )
    ims_practice_since = models.PositiveSmallIntegerField(
        _("practising IMS since (year)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1970)],
    )
    bio = models.TextField(_("biography"), blank=True)
    locations = models.ManyToManyField(Location, related_name="practitioners", blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    order = models.PositiveSmallIntegerField(default=0)
    calendar_feed_version = models.PositiveIntegerField(
        _("calendar feed version"),
        default=1,
        help_text=_("Raising it revokes every calendar feed address handed out before."),
    )

    class Meta:
        ordering = ("order", "last_name", "first_name")
        constraints = [
            models.CheckConstraint(
                condition=Q(ims_certification_expires_on__isnull=True)
                | Q(ims_certified_on__isnull=True)
                | Q(ims_certification_expires_on__gt=models.F("ims_certified_on")),
                name="ims_expiry_after_certification",
            ),
            models.UniqueConstraint(
                fields=("registration_body", "registration_number"), name="registration_unique"
            ),
            models.CheckConstraint(
                condition=Q(needling_authorisation_expires_on__isnull=True)
                | Q(needling_authorised_on__isnull=True)
                | Q(needling_authorisation_expires_on__gt=models.F("needling_authorised_on")),
                name="needling_authorisation_expiry_after_grant",
            ),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        name = f"{self.first_name} {self.last_name}"
        return f"{name}, {self.title}" if self.title else name

    def clean(self) -> None:
        errors: dict[str, Any] = {}
        # The display name is shown to patients, on PDFs and in calendar feeds: one line.
        for name in ("first_name", "last_name", "title"):
            if has_control_characters(getattr(self, name)):
                errors[name] = SINGLE_LINE_MESSAGE
        if self.ims_certification_expires_on and not self.ims_certified_on:
            errors["ims_certified_on"] = _("Give the certification date as well as its expiry.")
        if self.ims_certified_on and not self.ims_certification_issuer:
            errors["ims_certification_issuer"] = _("Say who issued the IMS certification.")
        if (
            self.ims_certified_on
            and self.ims_certification_expires_on
            and self.ims_certification_expires_on <= self.ims_certified_on
        ):
            errors["ims_certification_expires_on"] = _(
                "The expiry must be after the certification date."
            )
        if self.ims_certified_on and self.ims_certified_on > timezone.localdate():
            errors["ims_certified_on"] = _("The certification date cannot be in the future.")
        errors.update(self._authorisation_errors())
        if errors:
            raise ValidationError(errors)

    def _authorisation_errors(self) -> dict[str, Any]:
        errors: dict[str, Any] = {}
        recorded = any(
            (
                self.needling_authorisation_body,
                self.needling_authorisation_number,
                self.needling_authorised_on,
                self.needling_authorisation_expires_on,
            )
        )
        if not recorded:
            return errors
        if not self.needling_authorisation_body:
            errors["needling_authorisation_body"] = _("Say who granted the authorisation.")
        if not self.needling_authorisation_number:
            errors["needling_authorisation_number"] = _(
                "Give the authorisation's number or reference."
            )
        if not self.needling_authorised_on:
            errors["needling_authorised_on"] = _("Give the day the authorisation was granted.")
        elif self.needling_authorised_on > timezone.localdate():
            errors["needling_authorised_on"] = _("The day granted cannot be in the future.")
        elif (
            self.needling_authorisation_expires_on
            and self.needling_authorisation_expires_on <= self.needling_authorised_on
        ):
            errors["needling_authorisation_expires_on"] = _(
                "The expiry must be after the day it was granted."
            )
        return errors

    @property
    def licences(self) -> Licences:
        return Licences(
            registration_status=self.registration_status,
            registration_expires_on=self.registration_expires_on,
            ims_certified_on=self.ims_certified_on,
            ims_certification_expires_on=self.ims_certification_expires_on,
            needling_authorised_on=self.needling_authorised_on,
            needling_authorisation_expires_on=self.needling_authorisation_expires_on,
        )

    def needling_gaps(self, day: dt.date, location: Location) -> tuple[Gap, ...]:
        """Return the licences that stop this practitioner needling on the day at the location.

        The one question booking, starting an IMS visit and signing a needling note ask
        (`clinic.licences`); empty means they may needle.
        """
        return needling_gaps(
            self.licences, day, authorisation_required=location.needs_needling_authorisation
        )

    def may_needle(self, day: dt.date, location: Location) -> bool:
        return not self.needling_gaps(day, location)

    def ims_credential_current_on(self, day: dt.date) -> bool:
        """Say whether this practitioner may give IMS on the given day."""
        if not self.ims_certified_on or self.ims_certified_on > day:
            return False
        return self.ims_certification_expires_on is None or day < self.ims_certification_expires_on

    def _places(self, location: Location | None) -> list[Location]:
        """Return the location asked about, or each open location they work at."""
        if location is not None:
            return [location]
        return [place for place in self.locations.all() if place.is_active]

    def gives(self, service: Service, day: dt.date, location: Location | None = None) -> bool:
        """Say whether this practitioner may give the service on the day (at the location, or
        at one of theirs): IMS only with every licence current there."""
        if not service.requires_ims_credential:
            return True
        return any(self.may_needle(day, place) for place in self._places(location))

    def first_day_giving(
        self,
        service: Service,
        first: dt.date,
        last: dt.date,
        location: Location | None = None,
    ) -> dt.date | None:
        """Return the first day from `first` to `last` this practitioner may give the service."""
        if not service.requires_ims_credential:
            return first if first <= last else None
        days = [
            first_needling_day(
                self.licences,
                first,
                last,
                authorisation_required=place.needs_needling_authorisation,
            )
            for place in self._places(location)
        ]
        found = [day for day in days if day is not None]
        return min(found) if found else None

    @property
    def ims_credential_current(self) -> bool:
        return self.ims_credential_current_on(timezone.localdate())

    @property
    def years_of_ims_practice(self) -> int | None:
        if self.ims_practice_since is None:
            return None
        return max(0, timezone.localdate().year - self.ims_practice_since)


# How many days before a licence expires the owners are emailed, each threshold once.
LICENCE_REMINDER_DAYS = (60, 14)


class LicenceReminder(models.Model):
    """An expiry reminder emailed to the owners: one per practitioner, licence, expiry and
    threshold, so a re-run of the daily task sends nothing twice and a renewed licence (a new
    expiry) is reminded about afresh."""

    practitioner = models.ForeignKey(
        Practitioner, on_delete=models.CASCADE, related_name="licence_reminders"
    )
    licence = models.CharField(_("licence"), max_length=30, choices=Licence.choices)
    expires_on = models.DateField(_("expires on"))
    days_before = models.PositiveSmallIntegerField(_("days before expiry"))
    sent_at = models.DateTimeField(_("sent at"))

    class Meta:
        ordering = ("-sent_at", "-pk")
        verbose_name = _("licence expiry reminder")
        verbose_name_plural = _("licence expiry reminders")
        constraints = [
            models.UniqueConstraint(
                fields=("practitioner", "licence", "expires_on", "days_before"),
                name="licence_reminder_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.practitioner} · {self.licence} · {self.days_before}"


class Service(models.Model):
    """Something a patient can book, with its length, price and who may give it."""

    class RoomKind(models.TextChoices):
        BED = "bed", _("Treatment bed")
        ROOM = "room", _("Room")
        NONE = "none", _("No room needed")

    name = models.CharField(_("name"), max_length=120)
    slug = models.SlugField(_("short name in links"), unique=True)
    description = models.TextField(_("description"), blank=True)
    duration_minutes = models.PositiveSmallIntegerField(
        _("length (minutes)"), validators=[MinValueValidator(5)]
    )
    buffer_minutes = models.PositiveSmallIntegerField(
        _("buffer after (minutes)"),
        default=0,
        help_text=_("Time kept free after the visit for notes and cleaning."),
    )
    price = models.DecimalField(
        _("price"), max_digits=8, decimal_places=2, validators=[MinValueValidator(Decimal("0"))]
    )
    requires_ims_credential = models.BooleanField(
        _("needs an IMS-credentialed practitioner"), default=False
    )
    bookable_online = models.BooleanField(_("patients may book online"), default=True)
    for_new_patients = models.BooleanField(_("for new patients"), default=False)
    room_kind = models.CharField(
        _("occupies"), max_length=10, choices=RoomKind.choices, default=RoomKind.BED
    )
    min_notice_hours = models.PositiveSmallIntegerField(
        _("minimum notice (hours)"),
        default=12,
        help_text=_("How long before the visit it can still be booked."),
    )
    horizon_days = models.PositiveSmallIntegerField(
        _("booking horizon (days)"),
        default=90,
        validators=[MinValueValidator(1)],
        help_text=_("How far ahead it can be booked."),
    )
    is_active = models.BooleanField(_("offered"), default=True)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ("order", "name")
        constraints = [
            models.CheckConstraint(
                condition=Q(duration_minutes__gte=5), name="service_duration_at_least_5"
            ),
            models.CheckConstraint(condition=Q(price__gte=0), name="service_price_not_negative"),
        ]

    def __str__(self) -> str:
        return self.name


# The longest reason for a recall, declared once: the model field, the form and the service.
RECALL_REASON_MAX = 2000
# The highest low-stock level the owner may set for a size (the model, the form, the service).
STOCK_LEVEL_MAX = 100_000


class NeedleLot(models.Model):
    """A delivered lot of sterile single-use needles of one size, traceable to its patients."""

    lot_number = models.CharField(_("lot number"), max_length=60)
    manufacturer = models.CharField(_("manufacturer"), max_length=120)
    diameter_mm = models.DecimalField(
        _("diameter (mm)"),
        max_digits=3,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"))],
        help_text=_("e.g. 0.30"),
    )
    length_mm = models.PositiveSmallIntegerField(
        _("length (mm)"), validators=[MinValueValidator(1)], help_text=_("e.g. 40")
    )
    expires_on = models.DateField(_("expires on"))
    quantity_received = models.PositiveIntegerField(
        _("needles received"), validators=[MinValueValidator(1)]
    )
    # What is left: the needles received less those the needling rows written from this lot
    # use (drafts included). Only clinic.services changes it, inside the transaction that
    # writes the rows, under a row lock and with `WHERE quantity_on_hand >= n`; the database
    # refuses it below zero or above what was received. Starts as the quantity received.
    quantity_on_hand = models.PositiveIntegerField(_("needles on hand"), editable=False)
    received_on = models.DateField(_("received on"))
    recalled_at = models.DateTimeField(_("recalled at"), null=True, blank=True)
    recall_reason = models.TextField(
        _("reason for the recall"), max_length=RECALL_REASON_MAX, blank=True
    )

    class Meta:
        ordering = ("expires_on", "lot_number")
        verbose_name = _("needle lot")
        verbose_name_plural = _("needle lots")
        constraints = [
            models.UniqueConstraint(
                fields=("manufacturer", "lot_number"), name="needle_lot_unique_per_maker"
            ),
            models.CheckConstraint(
                condition=Q(diameter_mm__gt=0), name="needle_lot_diameter_positive"
            ),
            models.CheckConstraint(condition=Q(length_mm__gt=0), name="needle_lot_length_positive"),
            models.CheckConstraint(
                condition=Q(quantity_received__gt=0), name="needle_lot_quantity_positive"
            ),
            models.CheckConstraint(
                condition=Q(recalled_at__isnull=True) | ~Q(recall_reason=""),
                name="needle_lot_recall_has_reason",
            ),
            models.CheckConstraint(
                condition=Q(quantity_on_hand__gte=0), name="needle_lot_on_hand_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(quantity_on_hand__lte=models.F("quantity_received")),
                name="needle_lot_on_hand_at_most_received",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.lot_number} · {self.size_label}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.quantity_on_hand is None:
            # A new lot: every needle received is on hand.
            self.quantity_on_hand = self.quantity_received
        super().save(*args, **kwargs)

    @property
    def size(self) -> tuple[Decimal, int]:
        """Return the size as (diameter, length), the key of its low-stock level."""
        return (Decimal(self.diameter_mm).quantize(Decimal("0.01")), int(self.length_mm))

    @property
    def size_label(self) -> str:
        """Return the size the way it is printed on the box, e.g. 0.30 x 40 mm."""
        return f"{self.diameter_mm:.2f} x {self.length_mm} mm"

    @property
    def is_recalled(self) -> bool:
        return self.recalled_at is not None

    def is_expired_on(self, day: dt.date) -> bool:
        """Say whether the lot is past its expiry on the given day (usable up to the date)."""
        return day > self.expires_on

    def is_usable_on(self, day: dt.date) -> bool:
        return not self.is_recalled and not self.is_expired_on(day)

    def status_on(self, day: dt.date) -> str:
        """Return "recalled", "expired" or "usable": what the lot is on the given day."""
        if self.is_recalled:
            return "recalled"
        return "expired" if self.is_expired_on(day) else "usable"

    def clean(self) -> None:
        errors: dict[str, Any] = {}
        self.lot_number = (self.lot_number or "").strip()
        self.manufacturer = (self.manufacturer or "").strip()
        if self.diameter_mm is not None and self.diameter_mm <= 0:
            errors["diameter_mm"] = _("The diameter must be more than zero.")
        if self.length_mm is not None and self.length_mm <= 0:
            errors["length_mm"] = _("The length must be more than zero.")
        if self.quantity_received is not None and self.quantity_received <= 0:
            errors["quantity_received"] = _("Enter how many needles arrived (at least one).")
        if self.expires_on and self.received_on and self.expires_on < self.received_on:
            errors["expires_on"] = _("The expiry date cannot be before the day it was received.")
        if self.received_on and self.received_on > timezone.localdate():
            errors["received_on"] = _("The day received cannot be in the future.")
        if self.recalled_at is not None and not self.recall_reason.strip():
            errors["recall_reason"] = _("Say why the lot was recalled.")
        if errors:
            raise ValidationError(errors)


class NeedleStockLevel(models.Model):
    """The owner's low-stock level for one needle size: warn when fewer are on hand.

    "On hand" for a size is the sum over its lots usable that day (not expired, not
    recalled). `low_since` is set when a stock change leaves the size below its level and
    cleared when a change brings it back to the level or above; setting it queues one email
    to the owners (`clinic.tasks.alert_owner_of_low_stock`), which stamps `owner_alerted_at`.
    So the owners hear once per time the size runs low, not at every needle after.
    """

    diameter_mm = models.DecimalField(
        _("diameter (mm)"),
        max_digits=3,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    length_mm = models.PositiveSmallIntegerField(
        _("length (mm)"), validators=[MinValueValidator(1)]
    )
    warn_below = models.PositiveIntegerField(
        _("warn below"),
        validators=[MinValueValidator(1), MaxValueValidator(STOCK_LEVEL_MAX)],
        help_text=_("Warn when fewer needles of this size than this are on hand."),
    )
    low_since = models.DateTimeField(_("low since"), null=True, blank=True)
    owner_alerted_at = models.DateTimeField(_("owner emailed at"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ("diameter_mm", "length_mm")
        verbose_name = _("low-stock level")
        verbose_name_plural = _("low-stock levels")
        constraints = [
            models.UniqueConstraint(
                fields=("diameter_mm", "length_mm"), name="needle_stock_level_one_per_size"
            ),
            models.CheckConstraint(
                condition=Q(warn_below__gte=1), name="needle_stock_level_at_least_one"
            ),
            models.CheckConstraint(
                condition=Q(owner_alerted_at__isnull=True) | Q(low_since__isnull=False),
                name="needle_stock_level_alert_only_when_low",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.size_label}: warn below {self.warn_below}"

    @property
    def size_label(self) -> str:
        return f"{self.diameter_mm:.2f} x {self.length_mm} mm"

    @property
    def size(self) -> tuple[Decimal, int]:
        return (Decimal(self.diameter_mm).quantize(Decimal("0.01")), int(self.length_mm))


class SharpsContainer(models.Model):
    """A sharps container's life: opened in a room, sealed when full, collected for disposal."""

    label = models.CharField(
        _("label"), max_length=60, help_text=_("What is written on the container, e.g. S-014.")
    )
    location = models.ForeignKey(
        Location, on_delete=models.PROTECT, related_name="sharps_containers"
    )
    opened_at = models.DateTimeField(_("opened at"))
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    sealed_at = models.DateTimeField(_("sealed at"), null=True, blank=True)
    sealed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    collected_at = models.DateTimeField(_("collected at"), null=True, blank=True)
    collected_by_name = models.CharField(_("collected by (name)"), max_length=120, blank=True)
    collected_by_company = models.CharField(_("disposal company"), max_length=120, blank=True)
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        ordering = ("-opened_at", "-pk")
        verbose_name = _("sharps container")
        verbose_name_plural = _("sharps containers")
        constraints = [
            models.CheckConstraint(
                condition=(Q(sealed_at__isnull=True) & Q(sealed_by__isnull=True))
                | (Q(sealed_at__gte=models.F("opened_at")) & Q(sealed_by__isnull=False)),
                name="sharps_sealed_after_opened",
            ),
            models.CheckConstraint(
                condition=Q(collected_at__isnull=True)
                | (
                    Q(sealed_at__isnull=False)
                    & Q(collected_at__gte=models.F("sealed_at"))
                    & ~Q(collected_by_name="")
                ),
                name="sharps_collected_after_sealed",
            ),
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def stage(self) -> str:
        if self.collected_at is not None:
            return "collected"
        if self.sealed_at is not None:
            return "sealed"
        return "open"

    def get_stage_display(self) -> str:
        return str(
            {
                "open": _("Open, in use"),
                "sealed": _("Sealed, waiting for collection"),
                "collected": _("Collected"),
            }[self.stage]
        )
