"""Write audit rows: one function every view and change of health information calls."""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import connection, transaction
from django.http import HttpRequest
from django.utils import timezone

from imsclinic.core.models import (
    GENESIS_HASH,
    Action,
    AuditEvent,
    Outcome,
    canonical_detail,
    clean_text,
)

if TYPE_CHECKING:
    from imsclinic.accounts.models import User
    from imsclinic.patients.models import Patient

# Any fixed 64-bit number: the key of the PostgreSQL advisory lock that orders the chain.
_CHAIN_LOCK_KEY = 720_431_118


def client_ip(request: HttpRequest | None) -> str | None:
    """Return the client address Django saw (the proxy sets REMOTE_ADDR in production)."""
    if request is None:
        return None
    raw = str(request.META.get("REMOTE_ADDR") or "")
    try:
        # A zone suffix (fe80::1%eth0) means nothing off this host, and inet refuses it.
        address = ipaddress.ip_address(raw.split("%", 1)[0])
    except ValueError:
        return None  # a unix socket or a broken proxy: record no address rather than junk
    return str(address)


def _field_text(value: object, limit: int) -> str:
    text = "" if value is None else clean_text(str(value))
    return text[:limit]


def audit_record(
    *,
    actor: User | None,
    action: Action | str,
    object_type: str,
    object_id: object = "",
    patient: Patient | None = None,
    patient_id: int | None = None,
    outcome: Outcome | str = Outcome.ALLOWED,
    request: HttpRequest | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one row to the audit log, chained to the row before it."""
    # No savepoint of its own: a failure here must undo the change it records anyway.
    with transaction.atomic(savepoint=False):
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK_KEY])
        # On SQLite every write transaction is taken IMMEDIATE, which already serialises us.
        prev = AuditEvent.objects.order_by("-id").values_list("hash", flat=True).first()
        authenticated = actor is not None and actor.is_authenticated
        event = AuditEvent(
            at=timezone.now(),
            actor=actor if authenticated else None,
            actor_email=actor.email if authenticated and actor is not None else "",
            role=actor.role if authenticated and actor is not None else "anonymous",
            patient_id=patient.pk if patient is not None else _patient_pk(patient_id),
            action=str(action),
            object_type=_field_text(object_type, 60),
            object_id=_field_text(object_id, 60),
            ip=client_ip(request),
            outcome=str(outcome),
            # Stored in the same canonical form the hash covers, so a re-read row matches.
            detail=canonical_detail(detail or {}),
            prev_hash=prev or GENESIS_HASH,
        )
        event.hash = event.compute_hash()
        event.save()
    return event


def _patient_pk(value: object) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return None  # a mistyped id in a URL is not a patient; the row keeps it as object_id


@dataclass(frozen=True)
class ChainBreak:
    event_id: int
    reason: str
    at: dt.datetime | None = None


def verify_chain(batch_size: int = 2000) -> Iterator[int | ChainBreak]:
    """Walk the log in order, yielding each good row id, then the first break if any."""
    expected_prev = GENESIS_HASH
    last_id = 0
    while True:
        batch = list(AuditEvent.objects.filter(id__gt=last_id).order_by("id")[:batch_size])
        if not batch:
            return
        for event in batch:
            if event.prev_hash != expected_prev:
                yield ChainBreak(
                    event.pk,
                    "its link to the row before it does not match"
                    " (a row before it was removed, added or changed)",
                    event.at,
                )
                return
            if event.compute_hash() != event.hash:
                yield ChainBreak(event.pk, "its contents no longer match its hash", event.at)
                return
            expected_prev = event.hash
            last_id = event.pk
            yield event.pk


@dataclass(frozen=True)
class ChainHead:
    """Where the audit chain ends: how many rows it holds and the last row's hash."""

    rows: int
    hash: str


def chain_head() -> ChainHead:
    """Return the chain's row count and newest hash (the genesis hash when it is empty)."""
    with transaction.atomic():
        rows = AuditEvent.objects.count()
        last = AuditEvent.objects.order_by("-id").values_list("hash", flat=True).first()
    return ChainHead(rows=rows, hash=last or GENESIS_HASH)
