"""The audit log of health information: append-only and hash-chained."""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import json
import math
from collections.abc import Iterable
from typing import Any, NoReturn

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.translation import gettext_lazy as _

GENESIS_HASH = "0" * 64


class AuditLogIsAppendOnly(Exception):
    """Raised when code tries to change or remove an audit row."""


def clean_text(text: str) -> str:
    """Return text PostgreSQL will store: NUL becomes the replacement character."""
    # PostgreSQL refuses NUL in text and jsonb; an audit write must never fail on it.
    return text.replace("\x00", "\ufffd")


def _canonical_value(value: Any) -> Any:
    if isinstance(value, dict):
        return {clean_text(key): _canonical_value(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_canonical_value(item) for item in value]
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)  # jsonb has no NaN or infinity
        if value.is_integer():
            # jsonb keeps numbers as numeric and hands 1e16 back as an int; agree up front.
            return int(value)
    return value


def canonical_detail(detail: Any) -> Any:
    """Return detail as plain JSON data that reads back identically from SQLite and PostgreSQL."""
    # The round trip turns dates, decimals, UUIDs, tuples and non-text keys into JSON's own types.
    plain = json.loads(json.dumps(detail if detail is not None else {}, cls=DjangoJSONEncoder))
    return _canonical_value(plain)


def canonical_ip(value: str | None) -> str | None:
    """Return one spelling of an address whatever form the database hands back."""
    if not value:
        return None
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return value
    if isinstance(address, ipaddress.IPv6Address):
        # PostgreSQL's inet and Python compress some IPv6 forms differently; the long form is one.
        return address.exploded
    return str(address)


def canonical_time(at: dt.datetime) -> str:
    """Return the instant in UTC with microseconds always written out."""
    return at.astimezone(dt.UTC).isoformat(timespec="microseconds")


class AuditQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise AuditLogIsAppendOnly("The audit log cannot be updated.")

    def delete(self) -> NoReturn:  # type: ignore[override]
        raise AuditLogIsAppendOnly("The audit log cannot be deleted from.")

    def bulk_create(self, objs: Iterable[AuditEvent], *args: Any, **kwargs: Any) -> NoReturn:  # type: ignore[override]
        # Rows inserted in bulk would skip the chain; audit_record writes them one by one.
        raise AuditLogIsAppendOnly("Audit rows are written one at a time by audit_record.")

    def bulk_update(self, objs: Iterable[AuditEvent], *args: Any, **kwargs: Any) -> NoReturn:  # type: ignore[override]
        raise AuditLogIsAppendOnly("The audit log cannot be updated.")


class Action(models.TextChoices):
    VIEW = "view", _("Viewed")
    SEARCH = "search", _("Searched")
    CREATE = "create", _("Created")
    UPDATE = "update", _("Changed")
    DELETE = "delete", _("Deleted")
    EXPORT = "export", _("Exported")


class Outcome(models.TextChoices):
    ALLOWED = "allowed", _("Allowed")
    DENIED = "denied", _("Denied")
    FAILED = "failed", _("Failed")


class AuditEvent(models.Model):
    """One view or change of health information, by whom, when, from where."""

    at = models.DateTimeField(_("time (UTC)"), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    actor_email = models.CharField(max_length=254, blank=True)
    role = models.CharField(max_length=20, blank=True)
    patient = models.ForeignKey(
        "patients.Patient",
        null=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    action = models.CharField(max_length=20, choices=Action.choices, db_index=True)
    object_type = models.CharField(max_length=60)
    object_id = models.CharField(max_length=60, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.ALLOWED)
    detail = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        ordering = ("-id",)
        indexes = [models.Index(fields=("patient", "at")), models.Index(fields=("actor", "at"))]

    def __str__(self) -> str:
        return f"#{self.pk} {self.actor_email} {self.action} {self.object_type} {self.outcome}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise AuditLogIsAppendOnly("An audit row cannot be changed once written.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AuditLogIsAppendOnly("An audit row cannot be deleted.")

    @property
    def at_utc(self) -> str:
        """Return the time as an ISO 8601 instant in UTC, to the second."""
        return self.at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    @property
    def role_label(self) -> str:
        """Return the role the person had at the time, in words."""
        from imsclinic.accounts.models import Role

        if self.role == "anonymous":
            return str(_("Not signed in"))
        labels = {value: str(label) for value, label in Role.choices}
        return labels.get(self.role, self.role)

    def payload(self) -> dict[str, Any]:
        """Return the fields the hash covers, as plain JSON-ready data."""
        # Each value is put in one spelling so that a row hashes the same before it is
        # written and after it is read back from either SQLite or PostgreSQL.
        return {
            "at": canonical_time(self.at),
            "actor": _int_or_none(self.actor_id),
            "actor_email": self.actor_email,
            "role": self.role,
            "patient": _int_or_none(self.patient_id),
            "action": str(self.action),
            "object_type": self.object_type,
            "object_id": self.object_id,
            "ip": canonical_ip(self.ip),
            "outcome": str(self.outcome),
            "detail": canonical_detail(self.detail),
        }

    def compute_hash(self) -> str:
        """Return the SHA-256 of the previous hash and this row's canonical payload."""
        body = json.dumps(self.payload(), sort_keys=True, separators=(",", ":"), ensure_ascii=True)
        return hashlib.sha256(f"{self.prev_hash}\n{body}".encode()).hexdigest()


def _int_or_none(value: object) -> int | None:
    return None if value is None or value == "" else int(value)  # type: ignore[call-overload]
