"""The audit log cannot be changed through the app, and a change made behind its back shows."""

from __future__ import annotations

import datetime as dt
import io
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.test import RequestFactory
from django.utils import timezone

from imsclinic.core.audit import (
    ChainBreak,
    ChainHead,
    audit_record,
    audit_record_per_patient,
    chain_head,
    client_ip,
    seal_pending,
    verify_chain,
)
from imsclinic.core.models import (
    GENESIS_HASH,
    Action,
    AuditEvent,
    AuditLogIsAppendOnly,
    AuditSeal,
    Outcome,
    SealScheme,
)
from tests.factories.audit import audit_guards_lifted

NO_CHECKPOINT = "No checkpoint of this database in "


def write_rows(count: int, **extra: object) -> list[AuditEvent]:
    return [
        audit_record(
            actor=None,
            action=Action.VIEW,
            object_type="patient",
            object_id=n,
            detail={"n": n},
            **extra,  # type: ignore[arg-type]
        )
        for n in range(count)
    ]


def sealed_rows(count: int) -> list[AuditEvent]:
    rows = write_rows(count)
    assert seal_pending() == count
    return rows


def run_verify(*args: str) -> tuple[int, str, str]:
    """Run verify_audit_log and return its exit status, standard output and error output."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("verify_audit_log", *args, stdout=out, stderr=err)
    except SystemExit as stop:
        return int(stop.code or 0), out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


def raw(sql: str, params: list[Any]) -> None:
    """Run SQL on the audit tables as someone with direct database access could."""
    with audit_guards_lifted(), connection.cursor() as cursor:
        cursor.execute(sql, params)


@contextmanager
def removed(row: AuditEvent) -> Iterator[None]:
    """Remove a sealed row behind the app's back, and put it back for the test's teardown.

    Its seal still points at it; the database checks that only at commit, which a test
    never reaches, but the teardown's own check would fail on a dangling seal.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM core_auditevent WHERE id = %s", [row.pk])
        columns = [column[0] for column in cursor.description]
        values = cursor.fetchone()
    raw("DELETE FROM core_auditevent WHERE id = %s", [row.pk])
    yield
    names = ", ".join(columns)
    marks = ", ".join(["%s"] * len(columns))
    raw(f"INSERT INTO core_auditevent ({names}) VALUES ({marks})", list(values))


@pytest.mark.django_db
class TestTheChain:
    def test_an_empty_log_is_intact(self):
        status, out, err = run_verify()
        assert (status, err) == (0, "")
        assert out.startswith("Audit log intact: 0 rows verified.\n" + NO_CHECKPOINT)

    def test_the_chain_verifies_after_many_writes_once_sealed(self):
        sealed_rows(120)
        status, out, err = run_verify()
        assert status == 0, err
        assert out.splitlines()[0] == "Audit log intact: 120 rows verified."

    def test_rows_written_per_patient_in_one_statement_are_sealed_and_verify_like_any_other(
        self, django_assert_num_queries
    ):
        write_rows(2)
        shown = {n: {"view": "week", "visits": [n * 10]} for n in range(1, 41)}
        with django_assert_num_queries(1):
            audit_record_per_patient(
                actor=None, action=Action.VIEW, object_type="calendar", shown=shown
            )
        write_rows(1)

        assert seal_pending() == 43
        rows = AuditEvent.objects.filter(object_type="calendar").order_by("id")
        assert [(row.patient_id, row.detail["visits"]) for row in rows] == [
            (n, [n * 10]) for n in range(1, 41)
        ]
        status, out, err = run_verify()
        assert status == 0, err
        assert out.splitlines()[0] == "Audit log intact: 43 rows verified."

    def test_a_written_row_waits_outside_the_chain_until_the_sealer_runs(self):
        write_rows(3)
        assert not AuditSeal.objects.exists()
        status, out, _ = run_verify()
        assert status == 0
        assert "Audit log intact: 0 rows verified." in out
        assert "3 rows written in the last 0:05:00 wait to be sealed." in out

    def test_verify_seals_what_is_waiting_first_when_asked(self):
        write_rows(5)
        status, out, err = run_verify("--seal")
        assert status == 0, err
        assert out.splitlines()[:2] == [
            "Sealed 5 rows that were waiting.",
            "Audit log intact: 5 rows verified.",
        ]

    def test_a_row_still_unsealed_after_five_minutes_is_a_problem(self):
        rows = write_rows(2)
        with time_machine.travel(timezone.now() + dt.timedelta(minutes=6)):
            status, out, err = run_verify()
        assert (status, out) == (1, "")
        assert (
            f"2 audit rows written more than 0:05:00 ago are not sealed (the oldest, #{rows[0].pk}"
            in err
        )
        assert "is the task worker running" in err

    def test_the_walk_reads_in_batches_without_losing_rows(self):
        rows = sealed_rows(7)
        assert list(verify_chain(batch_size=3)) == [row.pk for row in rows]

    def test_each_seal_links_to_the_one_before_it_in_the_order_written(self):
        rows = sealed_rows(3)
        seals = list(AuditSeal.objects.order_by("seq"))
        assert [seal.seq for seal in seals] == [1, 2, 3]
        assert [seal.event_id for seal in seals] == [row.pk for row in rows]
        assert seals[0].prev_hash == GENESIS_HASH
        assert seals[1].prev_hash == seals[0].hash
        assert seals[2].prev_hash == seals[1].hash
        assert {seal.scheme for seal in seals} == {SealScheme.SEALED}

    def test_sealing_again_seals_nothing_twice(self):
        sealed_rows(4)
        assert seal_pending() == 0
        write_rows(2)
        assert seal_pending(batch_size=1) == 2
        assert AuditSeal.objects.count() == 6
        assert list(AuditSeal.objects.values_list("seq", flat=True)) == [1, 2, 3, 4, 5, 6]

    def test_the_head_counts_sealed_rows_and_ends_in_the_newest_seal(self):
        assert chain_head() == ChainHead(rows=0, hash=GENESIS_HASH)
        sealed_rows(3)
        write_rows(1)  # not sealed yet
        newest = AuditSeal.objects.get(seq=3)
        assert chain_head() == ChainHead(rows=3, hash=newest.hash)

    def test_a_rolled_back_change_takes_its_audit_row_with_it(self):
        with pytest.raises(RuntimeError), transaction.atomic():
            write_rows(1)
            raise RuntimeError("the change failed")
        assert not AuditEvent.objects.exists()
        assert seal_pending() == 0

    def test_a_row_read_back_from_the_database_still_matches_its_seal(self, rf: RequestFactory):
        request = rf.get("/", REMOTE_ADDR="2001:0DB8:0000:0000:0000:0000:0000:0001")
        written = audit_record(
            actor=None,
            action=Action.UPDATE,
            object_type="patient",
            object_id=uuid.UUID("12345678-1234-5678-1234-567812345678"),
            patient_id="7",  # type: ignore[arg-type]
            request=request,
            detail={
                "zeta": [1.0, 2.5, 1e16, (3, 4)],
                "alpha": {"when": dt.date(2026, 3, 2), "price": Decimal("95.00")},
                5: "a number as a key",  # type: ignore[dict-item]
                "text": "accents é, ✓ and a stray \x00",
                "none": None,
            },
        )
        seal = AuditSeal(seq=1, prev_hash=GENESIS_HASH, scheme=SealScheme.SEALED)
        seal.hash = AuditSeal.compute_hash(prev_hash=GENESIS_HASH, seq=1, event=written)
        again = AuditEvent.objects.get(pk=written.pk)
        assert seal.matches(again)
        assert again.patient_id == 7
        assert again.detail["zeta"] == [1, 2.5, 10**16, [3, 4]]
        assert again.detail["alpha"] == {"when": "2026-03-02", "price": "95.00"}

    def test_a_time_on_the_whole_second_still_verifies(self, monkeypatch):
        moment = dt.datetime(2026, 3, 2, 12, 0, 0, tzinfo=dt.UTC)
        monkeypatch.setattr(timezone, "now", lambda: moment)
        audit_record(actor=None, action=Action.VIEW, object_type="patient")
        seal_pending()
        assert all(isinstance(item, int) for item in verify_chain())

    def test_a_client_address_is_kept_only_when_it_is_an_address(self, rf: RequestFactory):
        assert client_ip(rf.get("/", REMOTE_ADDR="203.0.113.9")) == "203.0.113.9"
        assert client_ip(rf.get("/", REMOTE_ADDR="fe80::1%eth0")) == "fe80::1"
        assert client_ip(rf.get("/", REMOTE_ADDR="not an address")) is None
        assert client_ip(rf.get("/", REMOTE_ADDR="")) is None

    def test_behind_the_clinics_proxy_the_visitors_own_address_is_kept(
        self, rf: RequestFactory, settings
    ):
        settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
        through_proxy = rf.get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9")
        assert client_ip(through_proxy) == "203.0.113.9"
        # Whatever a visitor writes in the header themselves comes before the proxy's entry.
        spoofed = rf.get(
            "/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="10.0.0.1, 198.51.100.4"
        )
        assert client_ip(spoofed) == "198.51.100.4"

    def test_without_a_trusted_proxy_the_forwarded_header_is_ignored(self, rf: RequestFactory):
        spoofed = rf.get("/", REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR="10.0.0.1")
        assert client_ip(spoofed) == "203.0.113.9"

    def test_a_changed_field_is_found_and_the_row_named(self):
        rows = sealed_rows(10)
        bad = rows[4]
        raw("UPDATE core_auditevent SET outcome = %s WHERE id = %s", [Outcome.DENIED, bad.pk])
        status, out, err = run_verify()
        assert status == 1
        assert out == ""
        assert f"Audit log broken at row #{bad.pk} (" in err
        assert "no longer match its hash" in err

    def test_a_changed_detail_is_found(self):
        rows = sealed_rows(5)
        raw("UPDATE core_auditevent SET detail = %s WHERE id = %s", ['{"n": 99}', rows[2].pk])
        status, _, err = run_verify()
        assert status == 1
        assert f"row #{rows[2].pk} " in err

    def test_a_seal_hashed_again_after_a_change_breaks_the_link_of_the_next_seal(self):
        rows = sealed_rows(5)
        changed = rows[1]
        changed.object_id = "someone else"
        seal = AuditSeal.objects.get(event=changed)
        rehashed = AuditSeal.compute_hash(prev_hash=seal.prev_hash, seq=seal.seq, event=changed)
        raw(
            "UPDATE core_auditevent SET object_id = %s WHERE id = %s",
            [changed.object_id, changed.pk],
        )
        raw("UPDATE core_auditseal SET hash = %s WHERE seq = %s", [rehashed, seal.seq])
        status, _, err = run_verify()
        assert status == 1
        assert f"row #{rows[2].pk} " in err
        assert "link to the row before it" in err

    def test_removing_a_sealed_row_is_found(self):
        rows = sealed_rows(6)
        with removed(rows[3]):
            status, _, err = run_verify()
        assert status == 1
        assert f"Audit log broken at row #{rows[3].pk} (?): it was sealed at position 4" in err

    def test_removing_a_row_with_its_seal_is_found(self):
        rows = sealed_rows(6)
        raw("DELETE FROM core_auditseal WHERE event_id = %s", [rows[3].pk])
        raw("DELETE FROM core_auditevent WHERE id = %s", [rows[3].pk])
        status, _, err = run_verify()
        assert status == 1
        assert f"Audit log broken at row #{rows[4].pk} " in err
        assert "position 4 before it is missing" in err

    def test_removing_the_first_row_is_found(self):
        rows = sealed_rows(3)
        raw("DELETE FROM core_auditseal WHERE event_id = %s", [rows[0].pk])
        raw("DELETE FROM core_auditevent WHERE id = %s", [rows[0].pk])
        status, _, err = run_verify()
        assert status == 1
        assert f"row #{rows[1].pk} " in err

    def test_two_rows_swapped_in_the_chain_are_found(self):
        rows = sealed_rows(4)
        first, second = (AuditSeal.objects.get(event=row) for row in rows[1:3])
        raw("UPDATE core_auditseal SET event_id = -1 WHERE seq = %s", [first.seq])
        raw("UPDATE core_auditseal SET event_id = %s WHERE seq = %s", [rows[1].pk, second.seq])
        raw("UPDATE core_auditseal SET event_id = %s WHERE seq = %s", [rows[2].pk, first.seq])
        status, _, err = run_verify()
        assert status == 1
        assert f"row #{rows[2].pk} " in err
        assert "no longer match its hash" in err

    def test_a_row_chained_at_insert_after_sealing_began_is_found(self):
        rows = sealed_rows(2)
        raw("UPDATE core_auditseal SET scheme = %s WHERE seq = 2", [SealScheme.CHAINED_AT_INSERT])
        status, _, err = run_verify()
        assert status == 1
        assert f"row #{rows[1].pk} " in err
        assert "chained when written, after sealing began" in err

    def test_the_last_hash_is_shown_to_keep_elsewhere(self):
        rows = sealed_rows(2)
        out = io.StringIO()
        call_command("verify_audit_log", verbosity=2, stdout=out)
        newest = AuditSeal.objects.get(seq=2)
        assert f"Last row #{rows[-1].pk}, position 2, hash {newest.hash}" in out.getvalue()

    def test_a_break_stops_the_walk_there(self):
        rows = sealed_rows(4)
        raw("UPDATE core_auditevent SET role = %s WHERE id = %s", ["owner", rows[2].pk])
        walked = list(verify_chain())
        assert walked[:2] == [rows[0].pk, rows[1].pk]
        assert isinstance(walked[2], ChainBreak)
        assert len(walked) == 3

    def test_the_help_is_honest_about_what_it_cannot_show(self):
        from imsclinic.core.management.commands.verify_audit_log import Command

        assert "a row removed before it was sealed" in Command.help
        assert "rows cut off the end" in Command.help


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_row_slipped_in_below_the_sealers_place_is_reported_not_passed_over():
    sealed_rows(2)
    raw(
        "INSERT INTO core_auditevent (at, actor_email, role, action, object_type, object_id,"
        " outcome, detail, txid) VALUES (%s, '', 'anonymous', 'view', 'patient', 'x',"
        " 'allowed', '{}', 1)",
        [timezone.now()],
    )
    assert seal_pending() == 0
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=6)):
        status, _, err = run_verify()
    assert status == 1
    assert "1 audit rows written more than 0:05:00 ago are not sealed" in err


@pytest.mark.django_db
class TestTheAppCannotChangeTheLog:
    def test_saving_an_existing_row_is_refused(self):
        (row,) = write_rows(1)
        row.outcome = Outcome.DENIED
        with pytest.raises(AuditLogIsAppendOnly):
            row.save()
        assert AuditEvent.objects.get(pk=row.pk).outcome == Outcome.ALLOWED

    def test_deleting_a_row_is_refused(self):
        (row,) = write_rows(1)
        with pytest.raises(AuditLogIsAppendOnly):
            row.delete()
        assert AuditEvent.objects.filter(pk=row.pk).exists()

    def test_updating_through_a_queryset_is_refused(self):
        write_rows(2)
        with pytest.raises(AuditLogIsAppendOnly):
            AuditEvent.objects.all().update(outcome=Outcome.DENIED)
        assert not AuditEvent.objects.filter(outcome=Outcome.DENIED).exists()

    def test_deleting_through_a_queryset_is_refused(self):
        write_rows(2)
        with pytest.raises(AuditLogIsAppendOnly):
            AuditEvent.objects.filter(object_type="patient").delete()
        assert AuditEvent.objects.count() == 2

    def test_bulk_writes_around_audit_record_are_refused(self):
        (row,) = write_rows(1)
        with pytest.raises(AuditLogIsAppendOnly):
            AuditEvent.objects.bulk_create([AuditEvent(action="view", object_type="x")])
        with pytest.raises(AuditLogIsAppendOnly):
            AuditEvent.objects.bulk_update([row], ["outcome"])
        assert AuditEvent.objects.count() == 1

    def test_a_seal_cannot_be_changed_or_removed(self):
        sealed_rows(1)
        seal = AuditSeal.objects.get()
        seal.hash = "0" * 64
        with pytest.raises(AuditLogIsAppendOnly):
            seal.save()
        with pytest.raises(AuditLogIsAppendOnly):
            seal.delete()
        with pytest.raises(AuditLogIsAppendOnly):
            AuditSeal.objects.update(hash="0" * 64)
        with pytest.raises(AuditLogIsAppendOnly):
            AuditSeal.objects.all().delete()
        assert AuditSeal.objects.get().hash != "0" * 64


def refused(sql: str, params: list[Any]) -> None:
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, params)


@pytest.mark.django_db
class TestTheDatabaseRefusesChanges:
    """On SQLite and PostgreSQL alike, whoever connects."""

    def test_it_refuses_a_raw_update_of_a_row(self):
        (row,) = sealed_rows(1)
        refused("UPDATE core_auditevent SET outcome = 'denied' WHERE id = %s", [row.pk])
        assert AuditEvent.objects.get(pk=row.pk).outcome == Outcome.ALLOWED

    def test_it_refuses_a_raw_delete_of_a_row(self):
        (row,) = sealed_rows(1)
        refused("DELETE FROM core_auditevent WHERE id = %s", [row.pk])
        assert AuditEvent.objects.filter(pk=row.pk).exists()

    def test_it_refuses_a_raw_update_of_a_seal(self):
        sealed_rows(1)
        refused("UPDATE core_auditseal SET hash = %s WHERE seq = 1", ["0" * 64])
        assert AuditSeal.objects.get().hash != "0" * 64

    def test_it_refuses_a_raw_delete_of_a_seal(self):
        sealed_rows(1)
        refused("DELETE FROM core_auditseal WHERE seq = %s", [1])
        assert AuditSeal.objects.exists()

    def test_it_refuses_to_empty_either_table(self):
        sealed_rows(2)
        refused("DELETE FROM core_auditseal", [])
        refused("DELETE FROM core_auditevent", [])
        assert AuditEvent.objects.count() == AuditSeal.objects.count() == 2


@pytest.mark.postgres
@pytest.mark.django_db
@pytest.mark.parametrize("table", ["core_auditevent", "core_auditseal"])
def test_postgresql_refuses_truncate(table: str):
    sealed_rows(1)
    with connection.cursor() as cursor:
        # Check the seal's foreign key now: TRUNCATE refuses a table with checks pending.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    refused(f"TRUNCATE {table} CASCADE", [])
    assert AuditEvent.objects.count() == AuditSeal.objects.count() == 1
