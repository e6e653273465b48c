"""Checkpoints: the audit chain's head written down outside the database.

A chain shows a row changed, removed or slipped in among the others, but not rows cut off
its end, nor a whole log rewritten with fresh hashes. A checkpoint (time, sealed rows, newest
hash) is appended as one JSON line to AUDIT_CHECKPOINT_FILE, which the deployment keeps on
other storage than the database, and emailed to the clinic's owners. `verify_audit_log`
compares the log with every checkpoint of the file.

Each line also holds the SHA-256 of the line before it, so the file is a small chain of its
own; it is only ever appended to (and fsynced), never rewritten. A line names the database it
was taken from, so checkpoints of another database in the same file are left aside.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import json
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _

from imsclinic.core.audit import chain_head, seal_pending
from imsclinic.core.mailing import send_each
from imsclinic.core.models import GENESIS_HASH, AuditSeal

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Checkpoint:
    """The chain's head at one moment: how many rows were sealed and the newest hash."""

    at: dt.datetime
    rows: int
    head: str
    reason: str
    database: str
    prev: str  # SHA-256 of the file's line before this one (the genesis hash for the first)

    def to_line(self) -> str:
        """Return the checkpoint as the JSON line it is written as."""
        return json.dumps(
            {
                "at": self.at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
                "rows": self.rows,
                "head": self.head,
                "reason": self.reason,
                "database": self.database,
                "prev": self.prev,
            },
            sort_keys=True,
            separators=(",", ":"),
        )

    @classmethod
    def from_line(cls, line: str) -> Checkpoint:
        """Read a line back; raise ValueError if it is not a checkpoint."""
        try:
            data: dict[str, Any] = json.loads(line)
            checkpoint = cls(
                at=dt.datetime.fromisoformat(data["at"]),
                rows=int(data["rows"]),
                head=str(data["head"]),
                reason=str(data["reason"]),
                database=str(data["database"]),
                prev=str(data["prev"]),
            )
        except (TypeError, KeyError, json.JSONDecodeError) as error:
            raise ValueError(str(error)) from error
        if checkpoint.at.tzinfo is None or checkpoint.rows < 0:
            raise ValueError("no time zone, or a negative row count")
        return checkpoint

    @property
    def at_utc(self) -> str:
        return self.at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def line_hash(line: str) -> str:
    """Return the SHA-256 the next line carries as its `prev`."""
    return hashlib.sha256(line.encode()).hexdigest()


def database_label() -> str:
    """Return which database this is, as checkpoint lines name it."""
    return f"{connection.vendor}:{connection.settings_dict['NAME']}"


def checkpoint_file() -> Path:
    return Path(settings.AUDIT_CHECKPOINT_FILE)


def checkpoint_write(*, reason: str) -> Checkpoint:
    """Seal what is waiting, append the chain's head to the checkpoint file, tell the owners.

    `reason` says why ("daily", "backup", "by hand"); it is written in the line and the
    email. The file is appended to under an exclusive lock, so writers on one host never
    interleave, and fsynced before this returns. A failed email is logged; the line stands.
    """
    seal_pending()
    head = chain_head()
    path = checkpoint_file()
    # Only the last folder: a missing mount should fail loudly, not grow a local tree.
    path.parent.mkdir(exist_ok=True)
    created = not path.exists()
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        text = _read_all(fd)
        lines = text.splitlines()
        checkpoint = Checkpoint(
            at=timezone.now(),
            rows=head.rows,
            head=head.hash,
            reason=reason,
            database=database_label(),
            prev=line_hash(lines[-1]) if lines else GENESIS_HASH,
        )
        # A line cut short by a crash stays as it was; the new line starts on its own.
        start = "\n" if text and not text.endswith("\n") else ""
        os.write(fd, f"{start}{checkpoint.to_line()}\n".encode())
        os.fsync(fd)
    finally:
        os.close(fd)  # and with it the lock
    if created:
        _fsync_directory(path.parent)
    logger.info(
        "Audit checkpoint (%s): %s rows, head %s, in %s", reason, head.rows, head.hash, path
    )
    _email_owners(checkpoint, path)
    return checkpoint


def _read_all(fd: int) -> str:
    chunks = []
    offset = 0
    while chunk := os.pread(fd, 1 << 16, offset):
        chunks.append(chunk)
        offset += len(chunk)
    return b"".join(chunks).decode(errors="replace")


def _fsync_directory(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _email_owners(checkpoint: Checkpoint, path: Path) -> int:
    from django.contrib.auth import get_user_model

    from imsclinic.core.roles import Role

    User = get_user_model()

    owners = (
        User.objects.filter(role=Role.OWNER, is_active=True)
        .exclude(email="")
        .values_list("email", flat=True)
    )
    subject = _("Audit log checkpoint: %(rows)s rows") % {"rows": checkpoint.rows}
    body = _(
        "The audit log was checkpointed at %(at)s (%(reason)s).\n\n"
        "Rows in the chain: %(rows)s\n"
        "Newest hash: %(head)s\n"
        "Database: %(database)s\n"
        "Checkpoint file: %(path)s\n\n"
        "Keep this email. `python manage.py verify_audit_log` compares the log with the "
        "checkpoint file; should that file be lost or disputed, these two figures still show "
        "whether the log holds these rows unchanged. It contains no health information."
    ) % {
        "at": checkpoint.at_utc,
        "reason": checkpoint.reason,
        "rows": checkpoint.rows,
        "head": checkpoint.head,
        "database": checkpoint.database,
        "path": path,
    }
    messages = [EmailMessage(subject, body, to=[address]) for address in owners]
    return send_each(messages, about="audit checkpoint")


@dataclass(frozen=True)
class CheckpointFile:
    """What the checkpoint file holds for this database, and what is wrong with the file."""

    path: Path
    exists: bool
    checkpoints: list[Checkpoint]
    other_databases: int
    problems: list[str]

    @property
    def latest(self) -> Checkpoint | None:
        return self.checkpoints[-1] if self.checkpoints else None


def checkpoints_read() -> CheckpointFile:
    """Read this database's checkpoints, checking each line follows the one before it."""
    path = checkpoint_file()
    if not path.exists():
        return CheckpointFile(path, False, [], 0, [])
    lines = path.read_text(errors="replace").splitlines()
    ours: list[Checkpoint] = []
    others = 0
    problems: list[str] = []
    label = database_label()
    expected_prev = GENESIS_HASH
    for number, line in enumerate(lines, start=1):
        try:
            checkpoint = Checkpoint.from_line(line)
        except ValueError:
            problems.append(
                _("%(path)s line %(n)s is not a checkpoint.") % {"path": path, "n": number}
            )
            expected_prev = line_hash(line)
            continue
        if checkpoint.prev != expected_prev:
            problems.append(
                _("%(path)s line %(n)s does not follow the line before it: the file was changed.")
                % {"path": path, "n": number}
            )
        expected_prev = line_hash(line)
        if checkpoint.database == label:
            ours.append(checkpoint)
        else:
            others += 1
    return CheckpointFile(path, True, ours, others, problems)


def checkpoint_due(*, every: dt.timedelta, now: dt.datetime | None = None) -> bool:
    """Return whether this database's newest checkpoint is older than `every` (or missing)."""
    latest = checkpoints_read().latest
    return latest is None or latest.at <= (now or timezone.now()) - every


def checkpoint_problems(checkpoints: Iterable[Checkpoint]) -> list[str]:
    """Compare the chain with each checkpoint: rows missing since, or a head no longer there."""
    checkpoints = list(checkpoints)
    if not checkpoints:
        return []
    head = chain_head()
    problems = []
    fullest = max(checkpoints, key=lambda checkpoint: checkpoint.rows)
    if fullest.rows > head.rows:
        problems.append(
            _(
                "%(missing)s rows are missing from the audit log: the checkpoint of %(at)s "
                "(%(reason)s) counted %(then)s, the chain now holds %(now)s."
            )
            % {
                "missing": fullest.rows - head.rows,
                "at": fullest.at_utc,
                "reason": fullest.reason,
                "then": fullest.rows,
                "now": head.rows,
            }
        )
    within = [checkpoint for checkpoint in checkpoints if 0 < checkpoint.rows <= head.rows]
    hashes = dict(
        AuditSeal.objects.filter(seq__in={c.rows for c in within}).values_list("seq", "hash")
    )
    for checkpoint in within:
        if hashes.get(checkpoint.rows) != checkpoint.head:
            problems.append(
                _(
                    "The checkpoint of %(at)s (%(reason)s) no longer matches: position %(n)s "
                    "of the chain no longer ends in its hash %(head)s (rows up to it were "
                    "changed or written again)."
                )
                % {
                    "at": checkpoint.at_utc,
                    "reason": checkpoint.reason,
                    "n": checkpoint.rows,
                    "head": checkpoint.head,
                }
            )
    return problems
