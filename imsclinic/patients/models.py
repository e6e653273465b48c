"""The patient record: who the patient is and how to reach them."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from imsclinic.core.validators import validate_single_line


class Patient(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="patient",
    )
    given_name = models.CharField(
        _("first name"), max_length=100, validators=[validate_single_line]
    )
    family_name = models.CharField(
        _("last name"), max_length=100, validators=[validate_single_line]
    )
    preferred_name = models.CharField(
        _("preferred name"), max_length=100, blank=True, validators=[validate_single_line]
    )
    date_of_birth = models.DateField(_("date of birth"))
    pronouns = models.CharField(
        _("pronouns"), max_length=40, blank=True, validators=[validate_single_line]
    )
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(
        _("phone"), max_length=40, blank=True, validators=[validate_single_line]
    )
    phone_digits = models.CharField(max_length=40, blank=True, editable=False, db_index=True)
    address_line1 = models.CharField(
        _("address"), max_length=200, blank=True, validators=[validate_single_line]
    )
    address_line2 = models.CharField(
        _("address line 2"), max_length=200, blank=True, validators=[validate_single_line]
    )
    city = models.CharField(
        _("city"), max_length=100, blank=True, validators=[validate_single_line]
    )
    region = models.CharField(
        _("province or state"), max_length=100, blank=True, validators=[validate_single_line]
    )
    postal_code = models.CharField(
        _("postal code"), max_length=20, blank=True, validators=[validate_single_line]
    )
    emergency_contact_name = models.CharField(
        _("emergency contact"), max_length=150, blank=True, validators=[validate_single_line]
    )
    emergency_contact_phone = models.CharField(
        _("emergency contact phone"), max_length=40, blank=True, validators=[validate_single_line]
    )
    care_team = models.ManyToManyField(
        "clinic.Practitioner", related_name="patients", blank=True, verbose_name=_("care team")
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords(excluded_fields=["phone_digits"], m2m_fields=[care_team])

    class Meta:
        ordering = ("family_name", "given_name", "pk")
        indexes = [
            models.Index(fields=("family_name", "given_name")),
            models.Index(fields=("date_of_birth",)),
        ]

    def __str__(self) -> str:
        return self.full_name

    def save(self, *args: object, **kwargs: object) -> None:
        self.phone_digits = "".join(ch for ch in self.phone if ch.isdigit())
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "phone" in update_fields:  # type: ignore[operator]
            kwargs["update_fields"] = {*update_fields, "phone_digits"}  # type: ignore[misc]
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    @property
    def display_name(self) -> str:
        if self.preferred_name and self.preferred_name != self.given_name:
            return f"{self.given_name} ({self.preferred_name}) {self.family_name}"
        return self.full_name

    @property
    def contact_email(self) -> str:
        """Return where emails to the patient go: the record's address, else the account's."""
        if self.email:
            return self.email
        return self.user.email if self.user is not None else ""

    def age_on(self, day: dt.date) -> int:
        born = self.date_of_birth
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))

    def clean(self) -> None:
        if self.date_of_birth and self.date_of_birth > timezone.localdate():
            raise ValidationError(
                {"date_of_birth": _("The date of birth cannot be in the future.")}
            )
        if self.date_of_birth and self.date_of_birth.year < 1900:
            raise ValidationError({"date_of_birth": _("Check the year of birth.")})
