"""The audit log cannot be changed through the app, and a change made behind its back shows."""

from __future__ import annotations

import datetime as dt
import io
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.test import RequestFactory

from imsclinic.core.audit import audit_record, client_ip, verify_chain
from imsclinic.core.models import GENESIS_HASH, Action, AuditEvent, AuditLogIsAppendOnly, Outcome

TRIGGER = "core_auditevent_append_only"


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


def run_verify() -> tuple[int, str, str]:
    """Run verify_audit_log and return its exit status, standard output and error output."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("verify_audit_log", stdout=out, stderr=err)
    except SystemExit as stop:
        return int(stop.code or 0), out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


@contextmanager
def behind_the_apps_back() -> Iterator[None]:
    """Let raw SQL change audit rows, as someone with direct database access could."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ALTER TABLE core_auditevent DISABLE TRIGGER {TRIGGER}")
    try:
        yield
    finally:
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(f"ALTER TABLE core_auditevent ENABLE TRIGGER {TRIGGER}")


def raw(sql: str, params: list[str | int]) -> None:
    with behind_the_apps_back(), connection.cursor() as cursor:
        cursor.execute(sql, params)


@pytest.mark.django_db
class TestTheChain:
    def test_an_empty_log_is_intact(self):
        assert run_verify() == (0, "Audit log intact: 0 rows verified.\n", "")

    def test_the_chain_verifies_after_many_writes(self):
        write_rows(120)
        status, out, err = run_verify()
        assert status == 0, err
        assert out == "Audit log intact: 120 rows verified.\n"

    def test_the_walk_reads_in_batches_without_losing_rows(self):
        rows = write_rows(7)
        assert list(verify_chain(batch_size=3)) == [row.pk for row in rows]

    def test_each_row_links_to_the_one_before_it(self):
        first, second, third = write_rows(3)
        assert first.prev_hash == GENESIS_HASH
        assert second.prev_hash == first.hash
        assert third.prev_hash == second.hash

    def test_a_row_read_back_from_the_database_still_matches_its_hash(self, rf: RequestFactory):
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
        again = AuditEvent.objects.get(pk=written.pk)
        assert again.compute_hash() == written.hash == again.hash
        assert again.patient_id == 7
        assert again.detail["zeta"] == [1, 2.5, 10**16, [3, 4]]
        assert again.detail["alpha"] == {"when": "2026-03-02", "price": "95.00"}

    def test_a_time_on_the_whole_second_still_verifies(self, monkeypatch):
        from django.utils import timezone

        moment = dt.datetime(2026, 3, 2, 12, 0, 0, tzinfo=dt.UTC)
        monkeypatch.setattr(timezone, "now", lambda: moment)
        written = audit_record(actor=None, action=Action.VIEW, object_type="patient")
        assert AuditEvent.objects.get(pk=written.pk).compute_hash() == written.hash

    def test_a_client_address_is_kept_only_when_it_is_an_address(self, rf: RequestFactory):
        assert client_ip(rf.get("/", REMOTE_ADDR="203.0.113.9")) == "203.0.113.9"
        assert client_ip(rf.get("/", REMOTE_ADDR="fe80::1%eth0")) == "fe80::1"
        assert client_ip(rf.get("/", REMOTE_ADDR="not an address")) is None
        assert client_ip(rf.get("/", REMOTE_ADDR="")) is None

    def test_a_changed_field_is_found_and_the_row_named(self):
        rows = write_rows(10)
        bad = rows[4]
        raw("UPDATE core_auditevent SET outcome = %s WHERE id = %s", [Outcome.DENIED, bad.pk])
        status, out, err = run_verify()
        assert status == 1
        assert out == ""
        assert f"Audit log broken at row #{bad.pk} (" in err
        assert "no longer match its hash" in err

    def test_a_changed_detail_is_found(self):
        rows = write_rows(5)
        raw("UPDATE core_auditevent SET detail = %s WHERE id = %s", ['{"n": 99}', rows[2].pk])
        status, _, err = run_verify()
        assert status == 1
        assert f"row #{rows[2].pk} " in err

    def test_a_row_rehashed_after_a_change_breaks_the_link_of_the_next_row(self):
        rows = write_rows(5)
        changed = rows[1]
        changed.object_id = "someone else"
        raw(
            "UPDATE core_auditevent SET object_id = %s, hash = %s WHERE id = %s",
            [changed.object_id, changed.compute_hash(), changed.pk],
        )
        status, _, err = run_verify()
        assert status == 1
        assert f"row #{rows[2].pk} " in err
        assert "link to the row before it" in err

    def test_deleting_a_row_in_the_middle_is_found(self):
        rows = write_rows(6)
        raw("DELETE FROM core_auditevent WHERE id = %s", [rows[3].pk])
        status, _, err = run_verify()
        assert status == 1
        assert f"Audit log broken at row #{rows[4].pk} " in err

    def test_deleting_the_first_row_is_found(self):
        rows = write_rows(3)
        raw("DELETE FROM core_auditevent WHERE id = %s", [rows[0].pk])
        status, _, err = run_verify()
        assert status == 1
        assert f"row #{rows[1].pk} " in err

    def test_the_last_hash_is_shown_to_keep_elsewhere(self):
        rows = write_rows(2)
        out = io.StringIO()
        call_command("verify_audit_log", verbosity=2, stdout=out)
        assert f"Last row #{rows[-1].pk}, hash {rows[-1].hash}" in out.getvalue()

    def test_the_help_is_honest_about_what_a_chain_cannot_show(self):
        from imsclinic.core.management.commands.verify_audit_log import Command

        assert "rows cut off the end" in Command.help


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

    def test_bulk_writes_that_would_skip_the_chain_are_refused(self):
        (row,) = write_rows(1)
        with pytest.raises(AuditLogIsAppendOnly):
            AuditEvent.objects.bulk_create([AuditEvent(action="view", object_type="x")])
        with pytest.raises(AuditLogIsAppendOnly):
            AuditEvent.objects.bulk_update([row], ["outcome"])
        assert AuditEvent.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db
class TestThePostgresTrigger:
    def test_it_refuses_a_raw_update(self):
        (row,) = write_rows(1)
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute("UPDATE core_auditevent SET outcome = 'denied' WHERE id = %s", [row.pk])
        assert AuditEvent.objects.get(pk=row.pk).outcome == Outcome.ALLOWED

    def test_it_refuses_a_raw_delete(self):
        (row,) = write_rows(1)
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute("DELETE FROM core_auditevent WHERE id = %s", [row.pk])
        assert AuditEvent.objects.filter(pk=row.pk).exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_writers_at_the_same_moment_keep_one_unbroken_chain():
    threads_count, each = 4, 25
    start = threading.Barrier(threads_count)
    failures: list[BaseException] = []

    def writer(number: int) -> None:
        try:
            start.wait()
            for n in range(each):
                audit_record(
                    actor=None,
                    action=Action.VIEW,
                    object_type="patient",
                    object_id=f"{number}-{n}",
                )
        except BaseException as error:  # handed to the main thread to fail on
            failures.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    prev_hashes = list(AuditEvent.objects.values_list("prev_hash", flat=True))
    assert len(prev_hashes) == threads_count * each
    assert len(set(prev_hashes)) == len(prev_hashes), "two rows claim the same predecessor"
    status, out, err = run_verify()
    assert (status, out) == (0, "Audit log intact: 100 rows verified.\n"), err
