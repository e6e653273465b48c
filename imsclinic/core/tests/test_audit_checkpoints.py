"""Checkpoints anchor the chain's end outside the database; verify holds the log to them."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from imsclinic.accounts.models import User
from imsclinic.core.audit import audit_record, chain_head, seal_pending, verify_chain
from imsclinic.core.checkpoints import (
    Checkpoint,
    checkpoint_due,
    checkpoint_write,
    database_label,
)
from imsclinic.core.models import GENESIS_HASH, Action, AuditEvent, AuditSeal
from imsclinic.core.roles import Role
from imsclinic.patients.models import Patient
from tests.factories.audit import audit_guards_lifted
from tests.factories.mail import MailServer
from tests.factories.people import make_user


def checkpoint_path() -> Path:
    return Path(settings.AUDIT_CHECKPOINT_FILE)


def lines() -> list[str]:
    return checkpoint_path().read_text().splitlines()


def write(count: int, patient: Patient | None = None) -> list[AuditEvent]:
    return [
        audit_record(
            actor=None,
            action=Action.VIEW,
            object_type="chart",
            object_id=n,
            patient=patient,
            detail={"note": "left shoulder, C5-6 needled", "n": n},
        )
        for n in range(count)
    ]


def run_verify() -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("verify_audit_log", stdout=out, stderr=err)
    except SystemExit as stop:
        return int(stop.code or 0), out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


def raw(sql: str, params: list[Any]) -> None:
    with audit_guards_lifted(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def cut_off_the_newest(count: int) -> None:
    """Delete the newest rows and their seals, as someone with the database's keys could."""
    newest = list(AuditSeal.objects.order_by("-seq")[:count])
    raw("DELETE FROM core_auditseal WHERE seq >= %s", [newest[-1].seq])
    for seal in newest:
        raw("DELETE FROM core_auditevent WHERE id = %s", [seal.event_id])


@pytest.mark.django_db
class TestWritingACheckpoint:
    def test_it_seals_what_waits_then_appends_the_head_as_one_json_line(self):
        write(3)
        checkpoint = checkpoint_write(reason="backup")
        assert AuditSeal.objects.count() == 3
        assert (checkpoint.rows, checkpoint.head) == (3, chain_head().hash)
        (line,) = lines()
        assert json.loads(line) == {
            "at": checkpoint.at.isoformat(timespec="microseconds"),
            "rows": 3,
            "head": chain_head().hash,
            "reason": "backup",
            "database": database_label(),
            "prev": GENESIS_HASH,
        }

    def test_each_line_holds_the_hash_of_the_one_before_and_earlier_lines_never_change(self):
        write(2)
        checkpoint_write(reason="daily")
        first = checkpoint_path().read_bytes()
        write(4)
        second = checkpoint_write(reason="daily")
        assert checkpoint_path().read_bytes().startswith(first)
        assert second.rows == 6
        assert second.prev == hashlib.sha256(first.decode().rstrip("\n").encode()).hexdigest()
        assert Checkpoint.from_line(lines()[1]) == second

    def test_the_owners_are_emailed_the_figures_and_no_health_information(
        self, owner: User, front_desk: User, patient: Patient
    ):
        retired = make_user("former.owner@cedar.example", Role.OWNER)
        retired.is_active = False
        retired.save(update_fields=["is_active"])
        write(2, patient=patient)
        checkpoint = checkpoint_write(reason="daily")
        assert [message.to for message in mail.outbox] == [[owner.email]]
        (message,) = mail.outbox
        assert message.subject == "Audit log checkpoint: 2 rows"
        assert "Rows in the chain: 2" in message.body
        assert f"Newest hash: {checkpoint.head}" in message.body
        for health_information in ("shoulder", "C5-6", patient.given_name, patient.family_name):
            assert health_information not in message.body

    def test_a_mail_server_that_is_down_does_not_stop_the_checkpoint(
        self, owner: User, mail_server: MailServer, caplog: pytest.LogCaptureFixture
    ):
        mail_server.down()
        write(1)
        checkpoint_write(reason="daily")
        assert len(lines()) == 1
        assert "audit checkpoint: the email to owner@cedar.example failed" in caplog.text

    def test_the_command_writes_a_checkpoint_and_says_where(self):
        write(2)
        out = io.StringIO()
        call_command("audit_checkpoint", stdout=out)
        head = chain_head()
        assert out.getvalue() == (
            f"Checkpoint written to {checkpoint_path()}: 2 rows, head {head.hash}.\n"
        )
        assert json.loads(lines()[0])["reason"] == "by hand"

    def test_one_is_due_when_none_of_this_database_is_younger_than_a_day(self):
        day = dt.timedelta(hours=24)
        assert checkpoint_due(every=day)
        checkpoint_write(reason="daily")
        assert not checkpoint_due(every=day)
        assert checkpoint_due(every=day, now=timezone.now() + dt.timedelta(hours=25))
        checkpoint_path().write_text(
            lines()[0].replace(database_label(), "sqlite:elsewhere") + "\n"
        )
        assert checkpoint_due(every=day)


@pytest.mark.django_db
class TestVerifyingAgainstTheCheckpoints:
    def test_an_intact_log_matches_every_checkpoint(self):
        write(3)
        checkpoint_write(reason="daily")
        write(2)
        checkpoint_write(reason="backup")
        write(4)
        seal_pending()
        status, out, err = run_verify()
        assert (status, err) == (0, "")
        latest = Checkpoint.from_line(lines()[1])
        assert out.splitlines() == [
            "Audit log intact: 9 rows verified.",
            f"The chain matches every checkpoint; the newest, of {latest.at_utc}, counted 5 rows.",
        ]

    def test_removing_the_newest_rows_is_reported_with_how_many_are_missing(self):
        write(10)
        checkpoint = checkpoint_write(reason="daily")
        cut_off_the_newest(3)
        assert all(isinstance(item, int) for item in verify_chain())  # the chain alone: fine
        status, out, err = run_verify()
        assert (status, out) == (1, "")
        assert (
            f"3 rows are missing from the audit log: the checkpoint of {checkpoint.at_utc} "
            "(daily) counted 10, the chain now holds 7." in err
        )

    def test_emptying_the_log_is_reported_with_every_row_missing(self):
        write(10)
        checkpoint_write(reason="backup")
        cut_off_the_newest(10)
        status, out, err = run_verify()
        assert (status, out) == (1, "")
        assert "10 rows are missing from the audit log" in err
        assert "counted 10, the chain now holds 0." in err

    def test_a_log_written_again_with_fresh_hashes_no_longer_matches_its_checkpoint(self):
        rows = write(5)
        checkpoint = checkpoint_write(reason="daily")
        changed = AuditEvent.objects.get(pk=rows[1].pk)
        changed.object_id = "someone else"
        raw("UPDATE core_auditevent SET object_id = %s WHERE id = %s", ["someone else", changed.pk])
        prev = AuditSeal.objects.get(seq=1).hash
        for seal in AuditSeal.objects.filter(seq__gte=2).order_by("seq"):
            event = AuditEvent.objects.get(pk=seal.event_id)
            digest = AuditSeal.compute_hash(prev_hash=prev, seq=seal.seq, event=event)
            raw(
                "UPDATE core_auditseal SET prev_hash = %s, hash = %s WHERE seq = %s",
                [prev, digest, seal.seq],
            )
            prev = digest
        assert all(isinstance(item, int) for item in verify_chain())  # the chain alone: fine
        status, _, err = run_verify()
        assert status == 1
        assert (
            f"The checkpoint of {checkpoint.at_utc} (daily) no longer matches: position 5 "
            f"of the chain no longer ends in its hash {checkpoint.head}" in err
        )

    def test_a_changed_line_of_the_checkpoint_file_is_reported(self):
        write(2)
        checkpoint_write(reason="daily")
        write(2)
        checkpoint_write(reason="daily")
        first, second = lines()
        checkpoint_path().write_text(first.replace('"rows":2', '"rows":1') + "\n" + second + "\n")
        status, _, err = run_verify()
        assert status == 1
        assert f"{checkpoint_path()} line 2 does not follow the line before it" in err

    def test_a_line_that_is_not_a_checkpoint_is_reported(self):
        write(1)
        checkpoint_write(reason="daily")
        with checkpoint_path().open("a") as file:
            file.write("not json\n")
        status, _, err = run_verify()
        assert status == 1
        assert f"{checkpoint_path()} line 2 is not a checkpoint." in err

    def test_checkpoints_of_another_database_are_left_aside(self):
        write(2)
        checkpoint_write(reason="daily")
        ours = Checkpoint.from_line(lines()[0])
        elsewhere = Checkpoint(
            at=timezone.now(),
            rows=999,
            head="f" * 64,
            reason="daily",
            database="postgresql:another_clinic",
            prev=hashlib.sha256(lines()[0].encode()).hexdigest(),
        )
        with checkpoint_path().open("a") as file:
            file.write(elsewhere.to_line() + "\n")
        status, out, err = run_verify()
        assert (status, err) == (0, "")
        assert f"the newest, of {ours.at_utc}, counted 2 rows" in out
        assert f"1 checkpoints of other databases in {checkpoint_path()} were left aside." in out
