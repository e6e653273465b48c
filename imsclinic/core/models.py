"""The audit log of health information: append-only, and sealed into a hash chain."""

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
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.sql.compiler import SQLCompiler
from django.utils.translation import gettext_lazy as _

from imsclinic.core.roles import Role

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


class AppendOnlyQuerySet[M: models.Model](models.QuerySet[M]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise AuditLogIsAppendOnly("The audit log cannot be updated.")

    def delete(self) -> NoReturn:  # type: ignore[override]
        raise AuditLogIsAppendOnly("The audit log cannot be deleted from.")

    def bulk_update(self, objs: Iterable[M], *args: Any, **kwargs: Any) -> NoReturn:  # type: ignore[override]
        raise AuditLogIsAppendOnly("The audit log cannot be updated.")


class AuditQuerySet(AppendOnlyQuerySet["AuditEvent"]):
    def bulk_create(self, objs: Iterable[AuditEvent], *args: Any, **kwargs: Any) -> NoReturn:  # type: ignore[override]
        # One way in keeps every row's fields in the form its seal will hash.
        raise AuditLogIsAppendOnly("Audit rows are written one at a time by audit_record.")


class CurrentTransactionId(models.Func):
    """The writing transaction's id on PostgreSQL (NULL elsewhere), as a column default.

    The sealer orders rows by it and knows from PostgreSQL which transactions are still
    open, so it never passes over a row whose transaction has yet to commit
    (`imsclinic.core.audit.seal_pending`).
    """

    output_field = models.BigIntegerField()
    allowed_default = True

    def as_sql(  # type: ignore[override]
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any
    ) -> tuple[str, list[Any]]:
        return "NULL", []

    def as_postgresql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any
    ) -> tuple[str, list[Any]]:
        # xid8 has no cast to bigint but its text is a plain number; it never wraps around.
        return "(pg_current_xact_id()::text::bigint)", []


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


class ObjectType(models.TextChoices):
    """What an audit row is about: every audited thing, named once.

    The values are stored in each row and covered by its seal, so a value never changes:
    rename the member, never the string. A page listing many things of a kind names the
    list ("adverse_events", "patient_list"), a page about one thing names the thing.
    """

    ACCOUNT = "account", _("Billing account")
    ADDENDUM = "addendum", _("Addendum")
    ADVERSE_EVENT = "adverse_event", _("Adverse event")
    ADVERSE_EVENTS = "adverse_events", _("Adverse events")
    ADVERSE_EVENT_FORM = "adverse_event_form", _("Adverse event form")
    ADVERSE_EVENT_REPORT = "adverse_event_report", _("Adverse event report")
    ADVERSE_EVENT_UPDATE = "adverse_event_update", _("Adverse event update")
    API_TOKEN = "api_token", _("API token")
    APPOINTMENT = "appointment", _("Visit")
    APPOINTMENT_LIST = "appointment_list", _("Visit list")
    ASSESSMENT = "assessment", _("Gunn assessment")
    ASSESSMENT_FORM = "assessment_form", _("Gunn assessment form")
    AUDIT_LOG = "audit_log", _("Audit log")
    BILLING_REPORT = "billing_report", _("Billing report")
    CALENDAR = "calendar", _("Calendar")
    CALENDAR_FEED = "calendar_feed", _("Calendar feed")
    CHART = "chart", _("Chart")
    CHART_SUMMARY = "chart_summary", _("Chart summary")
    CHECKIN = "checkin", _("Check-in")
    CLAIM = "claim", _("Third-party claim")
    CLEARANCE = "clearance", _("Clearance")
    CONSENT = "consent", _("Consent")
    CONSENT_DOCUMENT = "consent_document", _("Consent document")
    CONSENT_SIGNATURE = "consent_signature", _("Signed consent")
    CONSENT_TABLET = "consent_tablet", _("Consent on the clinic tablet")
    CONSENT_VERSION = "consent_version", _("Consent version")
    CONSENT_WITHDRAWAL = "consent_withdrawal", _("Consent withdrawal")
    COURSE = "course", _("Course of visits")
    CREDIT_NOTE = "credit_note", _("Credit note")
    FEE_WAIVER = "fee_waiver", _("Waived fee")
    FOLLOWUP_ALERT = "followup_alert", _("Follow-up alert")
    FOLLOWUP_CHECKIN = "followup_checkin", _("After-visit check-in")
    FOLLOWUP_LIST = "followup_list", _("Follow-up list")
    INSTRUMENT_TEXT = "instrument_text", _("Questionnaire text")
    INTAKE = "intake", _("Intake")
    INVOICE = "invoice", _("Invoice")
    MEASURE_PLAN = "measure_plan", _("Outcome measure plan")
    MUSCLE_CATALOGUE = "muscle_catalogue", _("Muscle catalogue")
    NEEDLE_LOT = "needle_lot", _("Needle lot")
    NEEDLE_LOT_PATIENTS = "needle_lot_patients", _("Patients needled from a lot")
    NEEDLE_STOCK_LEVEL = "needle_stock_level", _("Low-stock level")
    NEEDLING_SESSION = "needling_session", _("Needling note")
    OUTCOMES_REPORT = "outcomes_report", _("Outcomes report")
    OUTCOME_PROGRESS = "outcome_progress", _("Progress")
    OUTCOME_RESULT = "outcome_result", _("Outcome result")
    OUTCOME_RESULTS = "outcome_results", _("Outcome results")
    PATIENT = "patient", _("Patient")
    PATIENT_LIST = "patient_list", _("Patient list")
    PAYER = "payer", _("Insurer or third party")
    PAYER_STATEMENT = "payer_statement", _("Payer statement")
    PAYMENT = "payment", _("Payment")
    PHYSIO_NOTE = "physio_note", _("Physiotherapy note")
    POLICY = "policy", _("Insurance policy")
    PORTAL_NOTES = "portal_notes", _("Notes shown in the portal")
    RECEIPT = "receipt", _("Official receipt")
    REFUND = "refund", _("Refund")
    SCREENING = "screening", _("Screening")
    SCREENING_QUEUE = "screening_queue", _("Screening queue")
    SHARPS_CONTAINER = "sharps_container", _("Sharps container")
    STAFF_INVITATION = "staff_invitation", _("Staff invitation")
    UNSIGNED_NOTES = "unsigned_notes", _("Unsigned notes")
    USER = "user", _("User")
    WAITLIST_ENTRY = "waitlist_entry", _("Waitlist entry")
    WAITLIST_OFFER = "waitlist_offer", _("Waitlist offer")


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
    # Rows written before sealing (core/0003) were chained as they were inserted; they keep
    # their hashes, and their seals repeat them. Newer rows leave both empty.
    prev_hash = models.CharField(max_length=64, null=True, blank=True)
    hash = models.CharField(max_length=64, unique=True, null=True, blank=True)
    txid = models.BigIntegerField(
        _("writing transaction"), null=True, editable=False, db_default=CurrentTransactionId()
    )

    objects = AuditQuerySet.as_manager()

    class Meta:
        ordering = ("-id",)
        indexes = [
            models.Index(fields=("patient", "at")),
            models.Index(fields=("actor", "at")),
            models.Index(fields=("txid", "id"), name="core_auditevent_seal_order"),
        ]

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
        """Return the hash a row chained at insert carries: its prev_hash and its payload."""
        return _chain_hash(self.prev_hash or "", self.payload())


def _chain_hash(prev_hash: str, body: dict[str, Any]) -> str:
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(f"{prev_hash}\n{text}".encode()).hexdigest()


def _int_or_none(value: object) -> int | None:
    return None if value is None or value == "" else int(value)  # type: ignore[call-overload]


class SealScheme(models.IntegerChoices):
    # The row's own prev_hash and hash, copied when sealing began (core/0004).
    CHAINED_AT_INSERT = 1, _("chained when written")
    SEALED = 2, _("sealed after commit")


class SealQuerySet(AppendOnlyQuerySet["AuditSeal"]):
    pass


class AuditSeal(models.Model):
    """One audit row's place in the hash chain: position, link to the one before, hash.

    Written only by the sealer (`imsclinic.core.audit.seal_pending`), in one strict order,
    after the row's own transaction has committed; never changed or removed.
    """

    seq = models.PositiveBigIntegerField(_("position"), primary_key=True)
    event = models.OneToOneField(AuditEvent, on_delete=models.PROTECT, related_name="seal")
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)
    scheme = models.PositiveSmallIntegerField(choices=SealScheme.choices)
    sealed_at = models.DateTimeField()

    objects = SealQuerySet.as_manager()

    class Meta:
        ordering = ("seq",)
        constraints = [
            models.CheckConstraint(condition=models.Q(seq__gte=1), name="core_auditseal_seq_from_1")
        ]

    def __str__(self) -> str:
        return f"seal {self.seq} of #{self.event_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AuditLogIsAppendOnly("A seal cannot be changed once written.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AuditLogIsAppendOnly("A seal cannot be deleted.")

    @staticmethod
    def compute_hash(*, prev_hash: str, seq: int, event: AuditEvent) -> str:
        """Return the hash a seal carries: the previous seal's hash, position, row id, payload."""
        return _chain_hash(prev_hash, {"seq": seq, "event": event.pk, "payload": event.payload()})

    def matches(self, event: AuditEvent) -> bool:
        """Return whether this seal's hash still fits the row it seals."""
        if self.scheme == SealScheme.CHAINED_AT_INSERT:
            return (
                event.prev_hash == self.prev_hash
                and event.hash == self.hash
                and event.compute_hash() == self.hash
            )
        expected = self.compute_hash(prev_hash=self.prev_hash, seq=self.seq, event=event)
        return self.scheme == SealScheme.SEALED and expected == self.hash
