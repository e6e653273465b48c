"""Row locks: the one order every service takes them in, and what happens when one still fails.

The order. A transaction that locks rows takes them in this order, skipping what it does not
need but never going back up the list:

1. practitioner rows, several in primary-key order
   (`scheduling.services.booking.lock_practitioners`);
2. the patient row (`scheduling.services.booking.lock_patient`, and the patient lock at the
   top of the clearance, consent, needling-session, outcome and waitlist services);
3. the visit: first the beds a new visit takes (`scheduling.services.booking.lock_beds`, in pk
   order), then the appointment and the rows that hang off it or off the patient: its
   waitlist entry and offer, intake drafts, notes, check-ins, results, signatures, adverse
   events and red-flag alerts;
4. billing's rows (`billing.services`): a payer's row where a payer pays (or the claim a
   visit's invoice takes one of its authorised visits from), the invoices in
   primary-key order, the payments whose money moves, and last the number counter of a
   series (an invoice, a credit note or a receipt taking its number);
5. the audit log, which takes no lock at all: `core.audit.audit_record` is one plain INSERT in
   the caller's transaction (its `actor` and `patient` carry no foreign-key constraint, so the
   insert does not even share-lock the patient row), and the sealer chains committed rows
   later, in its own transaction, under its own advisory lock (decision 0008).

Rows outside this chain (needle lots in primary-key order, then the low-stock levels of their
sizes: `clinic.services.needle_stock_lock`; sharps containers, consent documents and their
versions, staff invitations) are locked before any row of it, never after.

Every lock names only the rows the service changes or queues on: `lock_rows` below, or
`select_for_update(of=("self",), no_key=True)` when the same query brings related rows along
(without `of`, PostgreSQL locks every joined row too: the visit's clinic, location and
service, which every booking then waits for). `no_key` asks for FOR NO KEY UPDATE: no service
changes a primary key, and a plain FOR UPDATE would also hold up every insert of a row that
points at the locked one (a foreign-key check takes FOR KEY SHARE), a wait outside this order.

What if PostgreSQL still gives up on a transaction: a deadlock it broke (40P01), a
serialization failure (40001) or a lock it could not get in time (55P03)? Django raises
`OperationalError` with the driver's error as its cause (`is_transient`). The booking, move,
cancel and status services run under `retry_transient`: the whole transaction again, up to
`ATTEMPTS` times with a short random pause. That is safe because everything such a
transaction does is undone by its rollback: its audit rows and the task rows of its emails
are written inside it (`core.queueing.queue_with_change`; on-commit tasks of another backend
are dropped with it). What is left over reaches `core.middleware.TransientDatabaseErrorMiddleware`
(pages) or the API's handler: 503 with `Retry-After`, never a 500. A booking or a move that
keeps failing says instead that the time was just taken (409).
"""

from __future__ import annotations

import functools
import logging
import random
import time
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from django.db import OperationalError, connection
from django.db.models import Model
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

# PostgreSQL's SQLSTATEs for a transaction that may well succeed if simply run again.
TRANSIENT_SQLSTATES = {
    "40001": "serialization failure",
    "40P01": "deadlock",
    "55P03": "lock not available",
}
# How many times a retried transaction runs in all, and the pause before the next attempt.
ATTEMPTS = 3
BACKOFF_SECONDS = 0.05
# What a 503 answer tells the client to wait before trying again.
RETRY_AFTER_SECONDS = 2

P = ParamSpec("P")
R = TypeVar("R")


class TakenMeanwhile(Exception):
    """A row this transaction meant to take went to another one that has committed since.

    Raised where a database guard refused a write that the transaction's own check, made
    under its locks, had let through (a bed booked by another practitioner in between). The
    transaction cannot go on, but run again from the start it sees the other commit and
    chooses differently: `retry_transient` does that, as for a deadlock.
    """


def transient_kind(error: BaseException) -> str | None:
    """Name the transient failure behind this database error, or None if it is not one."""
    if isinstance(error, TakenMeanwhile):
        return "taken meanwhile"
    if not isinstance(error, OperationalError):
        return None
    return TRANSIENT_SQLSTATES.get(str(getattr(error.__cause__, "sqlstate", None) or ""))


def is_transient(error: BaseException) -> bool:
    """Say whether the database gave up on this transaction for now rather than for good."""
    return transient_kind(error) is not None


def busy_message() -> str:
    """Say, for a 503 answer, that the request was not carried out and to try again shortly."""
    return _("The clinic's system is busy: your request was not carried out. Please try again.")


def _pause(attempt: int) -> float:
    """Return a pause growing with the attempt, jittered so that rivals do not meet again."""
    return BACKOFF_SECONDS * attempt * (0.5 + random.random())  # noqa: S311 (not a secret)


def retry_transient(
    *, conflict: Callable[[], Exception] | None = None
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Run the decorated service again when the database gives up on its transaction for now.

    Only the outermost transaction is retried: called inside another transaction, the
    service runs once and the error goes up to whoever opened that one. After the last
    attempt the error goes on, or becomes `conflict()` when given (a booking says the time
    was taken). The service must write nothing outside its one transaction, and after the
    commit only read, so that a run cut short left nothing behind.
    """

    def decorate(func: Callable[P, R]) -> Callable[P, R]:
        name = getattr(func, "__qualname__", type(func).__name__)

        @functools.wraps(func)
        def run(*args: P.args, **kwargs: P.kwargs) -> R:
            if connection.in_atomic_block:
                return func(*args, **kwargs)
            attempt = 1
            while True:
                try:
                    return func(*args, **kwargs)
                except (OperationalError, TakenMeanwhile) as error:
                    kind = transient_kind(error)
                    if kind is None:
                        raise
                    if attempt >= ATTEMPTS:
                        logger.warning("%s: %s on each of %d attempts", name, kind, attempt)
                        if conflict is not None:
                            raise conflict() from error
                        raise
                    logger.info("%s: %s, running it again", name, kind)
                    time.sleep(_pause(attempt))
                    attempt += 1

        return run

    return decorate


def lock_rows(model: type[Model], *pks: int) -> None:
    """Lock these rows of one table until the transaction ends, in primary-key order.

    Only the lock is wanted: the ids are read back, not the rows. One statement: PostgreSQL
    sorts before it locks, so two callers locking overlapping sets queue rather than deadlock.
    Written out in SQL (table and column names from the model, ids as parameters): a booking
    takes three of these, and the ORM's building of each cost eight times the statement.
    A database without row locks (SQLite, whose writers already queue for the whole
    database) is asked nothing, as `select_for_update` does there.
    """
    ids = sorted(set(pks))
    if not ids or not connection.features.has_select_for_no_key_update:
        return
    quote = connection.ops.quote_name
    meta = model._meta
    table, key = quote(meta.db_table), quote(str(meta.pk.column))
    marks = ", ".join(["%s"] * len(ids))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {key} FROM {table} WHERE {key} IN ({marks})"  # noqa: S608
            f" ORDER BY 1 FOR NO KEY UPDATE",
            ids,
        )
        cursor.fetchall()
