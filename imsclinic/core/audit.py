"""The audit log: write rows (`audit_record`), seal them into a hash chain, verify the chain.

`audit_record` is one plain INSERT in the caller's transaction: no lock, no read of the row
before, so audited requests do not wait for each other; `audit_record_per_patient` writes
a page's one-row-per-patient-shown in a single INSERT. The sealer (`seal_pending`, run by
the worker every second) chains committed rows afterwards, one at a time, into
`AuditSeal`: position, previous hash, hash of position, row id and payload. It never passes
over a row whose transaction has yet to commit: on PostgreSQL it takes rows in the order of
their writing transaction's id (`AuditEvent.txid`) and only below the oldest transaction of
this database still open; on SQLite writers take turns, so id order is commit order.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import logging
import math
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db import connection, models, transaction
from django.db.models import Max
from django.http import HttpRequest
from django.utils import timezone

from imsclinic.core.models import (
    GENESIS_HASH,
    Action,
    AuditEvent,
    AuditSeal,
    ObjectType,
    Outcome,
    SealScheme,
    canonical_detail,
    clean_text,
)
from imsclinic.core.sql import insert_rows

logger = logging.getLogger(__name__)

if TYPE_CHECKING:
    from imsclinic.accounts.models import User
    from imsclinic.core.http import SignedInRequest
    from imsclinic.patients.models import Patient

# Any fixed 64-bit number: the key of the PostgreSQL advisory lock one sealer holds at a time.
_SEAL_LOCK_KEY = 720_431_119
# Rows sealed per transaction: a sealer stopped half-way loses at most one batch's work.
SEAL_BATCH = 500


def client_ip(request: HttpRequest | None) -> str | None:
    """Return the visitor's address: behind the clinic's proxy the one it names, else the peer's.

    With `ALLAUTH_TRUSTED_PROXY_COUNT` hops trusted (BEHIND_TLS_PROXY), the address is that
    many entries from the end of X-Forwarded-For, as allauth's sign-in limits read it;
    otherwise the header is the visitor's own say and is ignored.
    """
    if request is None:
        return None
    raw = str(request.META.get("REMOTE_ADDR") or "")
    hops = getattr(settings, "ALLAUTH_TRUSTED_PROXY_COUNT", 0)
    forwarded = [part.strip() for part in request.headers.get("x-forwarded-for", "").split(",")]
    if hops > 0 and len(forwarded) >= hops and forwarded[-hops]:
        raw = forwarded[-hops]
    try:
        # A zone suffix (fe80::1%eth0) means nothing off this host, and inet refuses it.
        address = ipaddress.ip_address(raw.split("%", 1)[0])
    except ValueError:
        return None  # a unix socket or a broken proxy: record no address rather than junk
    return str(address)


def _field_text(value: object, limit: int) -> str:
    text = "" if value is None else clean_text(str(value))
    return text[:limit]


def _event(
    *,
    actor: User | AnonymousUser | None,
    action: Action | str,
    object_type: str,
    object_id: object,
    patient_id: int | None,
    outcome: Outcome | str,
    request: HttpRequest | None,
    detail: dict[str, Any] | None,
) -> AuditEvent:
    person = None if actor is None or isinstance(actor, AnonymousUser) else actor
    return AuditEvent(
        at=timezone.now(),
        actor=person,
        actor_email=person.email if person is not None else "",
        role=person.role if person is not None else "anonymous",
        patient_id=patient_id,
        action=str(action),
        object_type=_field_text(object_type, 60),
        object_id=_field_text(object_id, 60),
        ip=client_ip(request),
        outcome=str(outcome),
        # Stored in the same canonical form the seal covers, so a re-read row matches.
        detail=canonical_detail(detail or {}),
    )


def audit_record(
    *,
    actor: User | AnonymousUser | None,
    action: Action | str,
    object_type: str,
    object_id: object = "",
    patient: Patient | None = None,
    patient_id: int | None = None,
    outcome: Outcome | str = Outcome.ALLOWED,
    request: HttpRequest | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one row to the audit log in the caller's transaction; the sealer chains it."""
    # No transaction of its own: inside the caller's, a failure here undoes the change it
    # records, and a rollback of the change takes the row with it.
    event = _event(
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=object_id,
        patient_id=patient.pk if patient is not None else _patient_pk(patient_id),
        outcome=outcome,
        request=request,
        detail=detail,
    )
    # The row `event.save()` would write, without building the ORM's insert for it: every
    # audited page and change writes one (`AuditEvent.save` only refuses rewrites).
    insert_rows([event])
    return event


def audit_view(
    request: SignedInRequest,
    object_type: ObjectType,
    *,
    patient: Patient | None = None,
    object_id: object = "",
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Record that the signed-in user was shown this: the one way a page audits a view.

    A refused look is recorded by `core.access.refuse` instead, as a denied row.
    """
    return audit_record(
        actor=request.user,
        action=Action.VIEW,
        object_type=object_type,
        object_id=object_id,
        patient=patient,
        request=request,
        detail=detail,
    )


def audit_record_per_patient(
    *,
    actor: User | AnonymousUser | None,
    action: Action | str,
    object_type: str,
    shown: Mapping[int, dict[str, Any]],
    request: HttpRequest | None = None,
) -> None:
    """Append one row per patient a page showed (patient id -> the row's detail), at once.

    The rows are exactly those `audit_record` would write one by one, so the sealer chains
    them the same way; a calendar naming a hundred patients costs one statement, not a
    hundred.
    """
    if not shown:
        return
    # Who, when, from where and what are the same on every row: worked out once (one `at`
    # for the one page view), then only the patient and the detail change row to row.
    first = _event(
        actor=actor,
        action=action,
        object_type=object_type,
        object_id="",
        patient_id=None,
        outcome=Outcome.ALLOWED,
        request=request,
        detail=None,
    )
    _insert_per_patient(
        first,
        [
            (patient_id, json.dumps(canonical_detail(detail or {})))
            for patient_id, detail in shown.items()
        ],
    )


# What every row of one page's look shares, in the order `_insert_per_patient` writes it.
_SHARED_FIELDS = (
    "at",
    "actor",
    "actor_email",
    "role",
    "action",
    "object_type",
    "object_id",
    "ip",
    "outcome",
)


def _concrete(name: str) -> models.Field[Any, Any]:
    field = AuditEvent._meta.get_field(name)
    assert isinstance(field, models.Field)
    return field


def _insert_per_patient(shared: AuditEvent, rows: list[tuple[int, str]]) -> None:
    """Insert one row per (patient id, detail as JSON text), the rest as `shared`, at once.

    Raw SQL rather than `bulk_create`: building and preparing a model instance per row cost
    a calendar of 400 patients more than the rest of its page. The values go through the
    fields' own database preparation, once; the writing transaction's id is left to the
    column's default, as for any other row. One statement whatever the number of rows: on
    PostgreSQL the patients and details come as two arrays, on SQLite as one JSON array.
    """
    meta = AuditEvent._meta
    fields = [_concrete(name) for name in _SHARED_FIELDS]
    values = [
        field.get_db_prep_save(getattr(shared, field.attname), connection) for field in fields
    ]
    quote = connection.ops.quote_name
    columns = ", ".join(
        quote(field.get_attname_column()[1] or field.name)
        for field in [*fields, _concrete("patient"), _concrete("detail")]
    )
    table = quote(meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Each shared value cast to its column's type: an untyped NULL would read as text.
            typed = ", ".join(f"%s::{field.db_type(connection)}" for field in fields)
            cursor.execute(
                # Names from the model and casts from its fields; every value is a parameter.
                f"INSERT INTO {table} ({columns}) "  # noqa: S608
                f"SELECT {typed}, shown.patient, shown.detail::jsonb "
                "FROM unnest(%s::bigint[], %s::text[]) WITH ORDINALITY "
                "AS shown(patient, detail, n) ORDER BY shown.n",
                [*values, [row[0] for row in rows], [row[1] for row in rows]],
            )
        else:
            # SQLite: the rows as one JSON array of [patient, detail] pairs.
            shared_values = ", ".join(["%s"] * len(fields))
            cursor.execute(
                f"INSERT INTO {table} ({columns}) "  # noqa: S608
                f"SELECT {shared_values}, json_extract(shown.value, '$[0]'), "
                "json_extract(shown.value, '$[1]') FROM json_each(%s) AS shown ORDER BY shown.key",
                [*values, json.dumps(rows)],
            )


def _patient_pk(value: object) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return None  # a mistyped id in a URL is not a patient; the row keeps it as object_id


def seal_pending(*, batch_size: int = SEAL_BATCH) -> int:
    """Seal every committed row not yet in the chain, a batch per transaction; return how many."""
    sealed = 0
    while True:
        batch = _seal_batch(batch_size)
        sealed += batch
        if batch < batch_size:
            return sealed


def _seal_batch(limit: int) -> int:
    # Durable: a batch sealed inside someone else's transaction could pass over rows that
    # commit after it, and the advisory lock would outlive the batch.
    with transaction.atomic(durable=True):
        postgres = connection.vendor == "postgresql"
        if postgres:
            # One sealer at a time; a second waits here, then carries on from the first's end.
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_SEAL_LOCK_KEY])
        # On SQLite the transaction is IMMEDIATE (settings): no writer or sealer runs beside it.
        last = AuditSeal.objects.order_by("-seq").values_list("seq", "hash", "event_id").first()
        seq, prev_hash, last_id = last or (0, GENESIS_HASH, 0)
        unsealed = AuditEvent.objects.filter(seal__isnull=True)
        if postgres:
            events = _committed_in_order(unsealed, last_id, limit)
        else:
            # Writers take turns, and ids only grow: id order is commit order.
            events = list(unsealed.filter(id__gt=last_id).order_by("id")[:limit])
        now = timezone.now()
        seals = []
        for event in events:
            seq += 1
            digest = AuditSeal.compute_hash(prev_hash=prev_hash, seq=seq, event=event)
            seals.append(
                AuditSeal(
                    seq=seq,
                    event=event,
                    prev_hash=prev_hash,
                    hash=digest,
                    scheme=SealScheme.SEALED,
                    sealed_at=now,
                )
            )
            prev_hash = digest
        AuditSeal.objects.bulk_create(seals)
    return len(seals)


def _committed_in_order(unsealed: Any, last_id: int, limit: int) -> list[AuditEvent]:
    """Return the unsealed rows the chain can take now, in the order it takes them.

    Rows go in (txid, id) order, after the last sealed row, and only below the id of the
    oldest other transaction still open in this database: every transaction below that has
    ended, so its rows are all visible now or never will be, and no row can turn up later
    behind the last one sealed. The anti-join on seals (`unsealed`) keeps a row from being
    sealed twice whatever the ids say.
    """
    last_txid = (
        AuditEvent.objects.filter(pk=last_id).values_list("txid", flat=True).first()
        if last_id
        else None
    )
    own_txid, open_txids = _open_transactions()
    if last_txid is not None and last_txid > own_txid:
        return _restored_elsewhere(unsealed, last_txid, last_id, own_txid, open_txids)
    horizon = min(open_txids, default=own_txid + 1)
    if last_txid is None:
        # Nothing sealed yet, or only rows chained as they were written (they have no txid
        # and were all sealed by migration core/0004); every newer row has a higher id.
        pending = unsealed.filter(id__gt=last_id, txid__isnull=False)
    else:
        pending = unsealed.filter(txid__gte=last_txid).exclude(txid=last_txid, id__lte=last_id)
    return list(pending.filter(txid__lt=horizon).order_by("txid", "id")[:limit])


def _restored_elsewhere(
    unsealed: Any, last_txid: int, last_id: int, own_txid: int, open_txids: list[int]
) -> list[AuditEvent]:
    """Return the rows to seal when the log was restored into another PostgreSQL server.

    The last sealed row's transaction id is above this transaction's own: the new server's
    ids run lower than the old one's, so they cannot be ordered together. At a moment when no
    older transaction is open here, every row written on the new server so far below this
    transaction's id is visible, and all of them go in one pass (no batch limit): first the
    old server's rows not yet sealed (after the last sealed row, ids at or above last_txid),
    then the new server's (ids above every old row's, txid up to this transaction's) in
    (txid, id) order. The next pass goes on from the last of those, in the usual way.
    """
    if any(txid < own_txid for txid in open_txids):
        _warn_now_and_then(
            "The audit log was restored into another PostgreSQL server; its new rows are "
            "sealed at the first moment no older transaction is open in this database."
        )
        return []
    old = list(
        unsealed.filter(txid__gte=last_txid)
        .exclude(txid=last_txid, id__lte=last_id)
        .order_by("txid", "id")
    )
    newest_sealed = AuditSeal.objects.aggregate(newest=Max("event_id"))["newest"] or 0
    new = list(unsealed.filter(id__gt=newest_sealed, txid__lte=own_txid).order_by("txid", "id"))
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint")
        (next_txid,) = cursor.fetchone()
    if next_txid > last_txid:
        # The new server's ids reached the old one's before its rows were sealed: old and
        # new rows can no longer be told apart, and are left unsealed for verify_audit_log
        # to report rather than sealed in a wrong order.
        _warn_now_and_then(
            "The audit log was restored into another PostgreSQL server whose transaction ids "
            "have reached the old server's; rows written since cannot be sealed safely."
        )
        return []
    return old + new


_last_warned = {"at": -math.inf}


def _warn_now_and_then(message: str) -> None:
    """Log a warning at most once a minute: the sealer tries every second."""
    if time.monotonic() - _last_warned["at"] >= 60:
        _last_warned["at"] = time.monotonic()
        logger.warning(message)


def _open_transactions() -> tuple[int, list[int]]:
    """Return this transaction's id and the ids of the others open in this database.

    This transaction takes its id first, so that any transaction missing from the list
    (one that starts afterwards) has a higher id than it. Only this database's transactions
    can write audit rows here; another database on the same server holds nothing back.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_current_xact_id()::text::bigint")
        (own_txid,) = cursor.fetchone()
        # pg_stat_activity is read once per transaction unless told to read it again.
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT backend_xid::text::bigint FROM pg_stat_activity"
            " WHERE datname = current_database() AND backend_xid IS NOT NULL"
            " AND pid <> pg_backend_pid()"
            " UNION ALL SELECT transaction::text::bigint FROM pg_prepared_xacts"
            " WHERE database = current_database()"
        )
        short_ids = [row[0] for row in cursor.fetchall()]
    return own_txid, [_widen(own_txid, short) for short in short_ids]


def _widen(near: int, short: int) -> int:
    """Return the 64-bit transaction id whose low 32 bits are `short`, closest to `near`.

    PostgreSQL keeps every open transaction within 2**31 ids of every other.
    """
    step = (short - near) % 2**32
    return near + (step - 2**32 if step >= 2**31 else step)


@dataclass(frozen=True)
class ChainBreak:
    event_id: int
    reason: str
    at: dt.datetime | None = None


def verify_chain(batch_size: int = 2000) -> Iterator[int | ChainBreak]:
    """Walk the chain in seal order, yielding each good row's id, then the first break if any."""
    expected_seq, expected_prev = 1, GENESIS_HASH
    chained_at_insert_allowed = True
    while True:
        seals = list(AuditSeal.objects.filter(seq__gte=expected_seq).order_by("seq")[:batch_size])
        if not seals:
            return
        events = AuditEvent.objects.in_bulk([seal.event_id for seal in seals])
        for seal in seals:
            event = events.get(seal.event_id)
            at = event.at if event is not None else None
            if seal.seq != expected_seq:
                yield ChainBreak(
                    seal.event_id,
                    f"the chain's position {expected_seq} before it is missing"
                    " (a sealed row was removed)",
                    at,
                )
                return
            if event is None:
                yield ChainBreak(
                    seal.event_id, f"it was sealed at position {seal.seq} and is gone", None
                )
                return
            if seal.prev_hash != expected_prev:
                yield ChainBreak(
                    event.pk,
                    "its link to the row before it does not match"
                    " (a row before it was removed, added or changed)",
                    at,
                )
                return
            if seal.scheme == SealScheme.CHAINED_AT_INSERT and not chained_at_insert_allowed:
                yield ChainBreak(
                    event.pk, "it claims to be chained when written, after sealing began", at
                )
                return
            if not seal.matches(event):
                yield ChainBreak(event.pk, "its contents no longer match its hash", at)
                return
            chained_at_insert_allowed = seal.scheme == SealScheme.CHAINED_AT_INSERT
            expected_seq, expected_prev = seal.seq + 1, seal.hash
            yield event.pk


@dataclass(frozen=True)
class Unsealed:
    """Rows not (yet) in the chain: how many, and the oldest of them."""

    rows: int
    oldest_id: int | None = None
    oldest_at: dt.datetime | None = None


def unsealed(*, written_before: dt.datetime | None = None) -> Unsealed:
    """Return the rows the chain does not hold, only those written before a time if given."""
    rows = AuditEvent.objects.filter(seal__isnull=True)
    if written_before is not None:
        rows = rows.filter(at__lt=written_before)
    oldest = rows.order_by("at", "id").values_list("id", "at").first()
    if oldest is None:
        return Unsealed(0)
    return Unsealed(rows.count(), oldest[0], oldest[1])


@dataclass(frozen=True)
class ChainHead:
    """Where the audit chain ends: how many rows it holds and the last row's hash."""

    rows: int
    hash: str


def chain_head() -> ChainHead:
    """Return the number of sealed rows and the newest seal's hash (genesis when empty).

    Rows written in the last moments may wait to be sealed; `seal_pending()` first to
    include them.
    """
    last = AuditSeal.objects.order_by("-seq").values_list("seq", "hash").first()
    if last is None:
        return ChainHead(rows=0, hash=GENESIS_HASH)
    return ChainHead(rows=last[0], hash=last[1])
