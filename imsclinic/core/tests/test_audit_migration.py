"""Rows chained as they were written, before sealing began, keep verifying after the migration."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from imsclinic.core.audit import ChainBreak, audit_record, seal_pending, verify_chain
from imsclinic.core.models import GENESIS_HASH, Action, AuditEvent, AuditSeal, SealScheme
from tests.factories.migrations import migrate_to, migrate_to_latest

BEFORE_SEALING = ("core", "0002_audit_append_only_trigger")


@pytest.fixture
def log_before_sealing(transactional_db: None) -> Iterator[MigrationExecutor]:
    """The database as it was before sealing, put forward again afterwards."""
    executor = migrate_to([BEFORE_SEALING])
    try:
        yield executor
    finally:
        migrate_to_latest()


def write_as_before(apps: object, count: int) -> list[tuple[int, str]]:
    """Write rows the way audit_record did before sealing: each chained to the one before it."""
    OldEvent = apps.get_model("core", "AuditEvent")  # type: ignore[attr-defined]
    written = []
    prev = GENESIS_HASH
    for n in range(count):
        fields = {
            "at": timezone.now(),
            "actor_email": "desk@cedar.example",
            "role": "front_desk",
            "patient_id": 40 + n,
            "action": "view",
            "object_type": "patient",
            "object_id": str(40 + n),
            "ip": "203.0.113.9",
            "outcome": "allowed",
            "detail": {"page": n},
        }
        # The payload and hash as the old code computed them (the payload is unchanged).
        digest = AuditEvent(**fields, prev_hash=prev).compute_hash()
        row = OldEvent.objects.create(**fields, prev_hash=prev, hash=digest)
        written.append((row.pk, digest))
        prev = digest
    return written


def test_rows_chained_before_sealing_verify_and_the_chain_goes_on_from_them(
    log_before_sealing: MigrationExecutor,
) -> None:
    old_apps = log_before_sealing.loader.project_state([BEFORE_SEALING]).apps
    old = write_as_before(old_apps, 4)
    migrate_to_latest()

    seals = list(AuditSeal.objects.order_by("seq"))
    assert [(seal.event_id, seal.hash) for seal in seals] == old
    assert {seal.scheme for seal in seals} == {SealScheme.CHAINED_AT_INSERT}
    assert list(verify_chain()) == [pk for pk, _ in old]

    new = audit_record(actor=None, action=Action.VIEW, object_type="patient", object_id="x")
    assert seal_pending() == 1
    continued = AuditSeal.objects.get(event=new)
    assert (continued.seq, continued.prev_hash) == (5, old[-1][1])
    assert list(verify_chain()) == [pk for pk, _ in old] + [new.pk]


def test_a_row_changed_before_the_migration_is_still_found_after_it(
    log_before_sealing: MigrationExecutor,
) -> None:
    old_apps = log_before_sealing.loader.project_state([BEFORE_SEALING]).apps
    old = write_as_before(old_apps, 3)
    postgres = connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        # On PostgreSQL the 0002 trigger stood then; someone with the owner's keys went round it.
        if postgres:
            cursor.execute("ALTER TABLE core_auditevent DISABLE TRIGGER USER")
        cursor.execute("UPDATE core_auditevent SET role = 'owner' WHERE id = %s", [old[1][0]])
        if postgres:
            cursor.execute("ALTER TABLE core_auditevent ENABLE TRIGGER USER")
    migrate_to_latest()

    walked = list(verify_chain())
    assert walked[0] == old[0][0]
    assert walked[1] == ChainBreak(
        old[1][0], "its contents no longer match its hash", AuditEvent.objects.get(pk=old[1][0]).at
    )


def test_the_triggers_are_back_after_migrating_down_and_up_again(
    log_before_sealing: MigrationExecutor,
) -> None:
    migrate_to_latest()
    audit_record(actor=None, action=Action.VIEW, object_type="patient")
    seal_pending()
    for sql in ("UPDATE core_auditseal SET hash = 'x'", "DELETE FROM core_auditevent"):
        with pytest.raises(DatabaseError, match="append-only"), connection.cursor() as cursor:
            cursor.execute(sql)
    assert AuditSeal.objects.count() == AuditEvent.objects.count() == 1
