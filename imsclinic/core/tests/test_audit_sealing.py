"""Rows written at the same moment are each sealed once, in one unbroken chain, whatever happens.

The process tests run on both databases: writers and sealers are processes of their own with
real transactions (on SQLite a migrated file, on PostgreSQL the test database). The thread
tests hold PostgreSQL transactions open on purpose to show what the sealer waits for.
"""

from __future__ import annotations

import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
from django.db import connection, transaction

from imsclinic.core.audit import audit_record, seal_pending, verify_chain
from imsclinic.core.models import Action, AuditEvent, AuditSeal
from imsclinic.core.tests.audit_processes import WAIT_S, check, finish, stalled, start
from tests.factories.audit import audit_guards_lifted


def all_sealed_once(rows: int) -> dict[str, Any]:
    return {"rows": rows, "seals": rows, "sealed_rows": rows, "verified": rows, "break": None}


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[str]]]:
    """Processes a test starts, killed if the test ends without them."""
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
            process.communicate()


@pytest.mark.django_db(transaction=True)
def test_rows_from_writers_at_the_same_moment_are_each_sealed_once_while_they_write(
    database_url: str, processes: list[subprocess.Popen[str]]
) -> None:
    writers, each = 4, 60
    processes += [start(database_url, "write", str(each)) for _ in range(writers)]
    processes.append(start(database_url, "seal", "--batch", "25", "--until", str(writers * each)))
    for process in processes:
        finish(process)
    assert check(database_url) == all_sealed_once(writers * each)


@pytest.mark.django_db(transaction=True)
def test_a_sealer_killed_inside_a_batch_leaves_it_unsealed_and_the_next_sealer_finishes(
    database_url: str, processes: list[subprocess.Popen[str]]
) -> None:
    finish(start(database_url, "write", "300"))
    first = start(database_url, "seal", "--batch", "50", "--stall-after", "120")
    processes.append(first)
    assert stalled(first)
    # Two whole batches are in; the first sealer holds the lock inside its third, and a
    # second sealer waits for it.
    second = start(database_url, "seal", "--batch", "50", "--until", "300")
    processes.append(second)
    assert second.stdout is not None
    assert second.stdout.readline().strip() == "sealing"
    time.sleep(1)
    counts = check(database_url)
    assert (counts["seals"], counts["verified"], counts["break"]) == (100, 100, None)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=WAIT_S)
    finish(second)
    assert check(database_url) == all_sealed_once(300)


@pytest.mark.django_db(transaction=True)
def test_two_sealers_at_once_seal_each_row_once(
    database_url: str, processes: list[subprocess.Popen[str]]
) -> None:
    finish(start(database_url, "write", "600"))
    processes += [start(database_url, "seal", "--batch", "20", "--until", "600") for _ in "ab"]
    for process in processes:
        finish(process)
    assert check(database_url) == all_sealed_once(600)


def write(count: int, **extra: Any) -> list[AuditEvent]:
    return [
        audit_record(actor=None, action=Action.VIEW, object_type="patient", object_id=n, **extra)
        for n in range(count)
    ]


def sealed_order() -> list[int]:
    return list(AuditSeal.objects.order_by("seq").values_list("event_id", flat=True))


def intact() -> bool:
    return all(isinstance(item, int) for item in verify_chain())


@pytest.mark.django_db
def test_a_failure_inside_a_batch_rolls_that_batch_back_and_the_next_run_seals_the_rest(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rows = write(12)
    real = AuditSeal.compute_hash
    calls = {"n": 0}

    def failing(**kwargs: Any) -> str:
        calls["n"] += 1
        if calls["n"] == 7:
            raise RuntimeError("the sealer died here")
        return real(**kwargs)

    monkeypatch.setattr(AuditSeal, "compute_hash", staticmethod(failing))
    with pytest.raises(RuntimeError):
        seal_pending(batch_size=5)
    assert sealed_order() == [row.pk for row in rows[:5]]
    monkeypatch.undo()
    assert seal_pending(batch_size=5) == 7
    assert sealed_order() == [row.pk for row in rows]
    assert intact()


class Held:
    """A transaction of its own in another thread, open until the test lets it finish."""

    def __init__(self, work: Callable[[], Any], *, commit: bool = True) -> None:
        self.work, self.commit = work, commit
        self.ready, self.release = threading.Event(), threading.Event()
        self.result: Any = None
        self.errors: list[BaseException] = []
        self.thread = threading.Thread(target=self._run)

    def _run(self) -> None:
        try:
            with transaction.atomic():
                self.result = self.work()
                self.ready.set()
                assert self.release.wait(timeout=WAIT_S)
                if not self.commit:
                    transaction.set_rollback(True)
        except BaseException as error:  # handed to the test to fail on
            self.errors.append(error)
            self.ready.set()
        finally:
            connection.close()

    def __enter__(self) -> Held:
        self.thread.start()
        assert self.ready.wait(timeout=WAIT_S)
        assert self.errors == []
        return self

    def finish(self) -> None:
        self.release.set()
        self.thread.join(timeout=WAIT_S)
        assert self.errors == []

    def __exit__(self, *exc: object) -> None:
        self.finish()


def transaction_id() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_current_xact_id()::text::bigint")
        value: int = cursor.fetchone()[0]
    return value


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_row_committed_after_later_rows_is_sealed_first_not_passed_over() -> None:
    early = Held(lambda: write(1)[0])
    with early:
        later = write(3)
        assert seal_pending() == 0  # the early transaction, still open, holds them back
        early.finish()
        assert seal_pending() == 4
    assert sealed_order() == [early.result.pk] + [row.pk for row in later]
    assert intact()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_row_written_late_by_an_older_transaction_is_sealed_before_younger_rows() -> None:
    # By id order alone the younger rows would be sealed first and this one passed over.
    has_an_id, go_on = threading.Event(), threading.Event()
    written: list[AuditEvent] = []

    def old_transaction() -> None:
        transaction_id()  # it starts, and takes its id, before the others
        has_an_id.set()
        assert go_on.wait(timeout=WAIT_S)
        written.extend(write(1))

    holder = Held(old_transaction)
    holder.thread.start()
    try:
        assert has_an_id.wait(timeout=WAIT_S)
        later = write(3)
        assert seal_pending() == 0
    finally:
        go_on.set()
        holder.finish()
    assert seal_pending() == 4
    assert sealed_order() == [written[0].pk] + [row.pk for row in later]
    assert intact()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_row_leaves_a_hole_that_holds_nothing_back() -> None:
    with Held(lambda: write(2), commit=False) as undone:
        pass
    after = write(3)
    assert seal_pending() == 3
    assert sealed_order() == [row.pk for row in after]
    assert not AuditEvent.objects.filter(pk__in=[row.pk for row in undone.result]).exists()
    assert intact()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_transaction_open_in_another_database_holds_nothing_back() -> None:
    db = connection.settings_dict
    with psycopg.connect(
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
        user=db["USER"],
        password=db["PASSWORD"] or None,
        dbname="postgres",
    ) as elsewhere:
        elsewhere.execute("SELECT pg_current_xact_id()")  # an open transaction with an id
        rows = write(3)
        assert seal_pending() == 3
    assert sealed_order() == [row.pk for row in rows]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_writer_threads_and_a_sealer_thread_at_once_keep_one_unbroken_chain() -> None:
    writers, each = 4, 25
    start = threading.Barrier(writers + 1)
    done = threading.Event()
    failures: list[BaseException] = []

    def writer(number: int) -> None:
        try:
            start.wait()
            for n in range(each):
                with transaction.atomic():
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

    def sealer() -> None:
        try:
            start.wait()
            while not done.is_set():
                seal_pending(batch_size=7)
        except BaseException as error:
            failures.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(writers)]
    sealing = threading.Thread(target=sealer)
    for thread in [*threads, sealing]:
        thread.start()
    for thread in threads:
        thread.join()
    done.set()
    sealing.join()
    seal_pending()

    assert failures == []
    assert AuditSeal.objects.count() == AuditEvent.objects.count() == writers * each
    assert list(AuditSeal.objects.values_list("seq", flat=True)) == list(
        range(1, writers * each + 1)
    )
    assert intact()


def restored_elsewhere(rows: list[AuditEvent]) -> None:
    """Give rows the transaction ids of a server whose counter ran far ahead of this one's."""
    with audit_guards_lifted(), connection.cursor() as cursor:
        for row in rows:
            cursor.execute(
                "UPDATE core_auditevent SET txid = txid + 1000000000 WHERE id = %s", [row.pk]
            )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_log_restored_into_another_server_goes_on_being_sealed() -> None:
    before = write(3)
    seal_pending()
    leftover = write(2)  # written, not yet sealed, when the database was copied
    restored_elsewhere(before + leftover)
    after = write(2)
    assert seal_pending() == 4
    more = write(2)
    assert seal_pending() == 2
    assert sealed_order() == [row.pk for row in before + leftover + after + more]
    assert intact()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_restored_log_waits_for_a_moment_with_no_other_transaction_open() -> None:
    before = write(2)
    seal_pending()
    restored_elsewhere(before)
    with Held(transaction_id):
        after = write(2)
        assert seal_pending() == 0
    assert seal_pending() == 2
    assert sealed_order() == [row.pk for row in before + after]
