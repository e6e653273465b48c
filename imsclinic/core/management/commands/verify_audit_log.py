"""Check that no audit row was altered, removed or slipped in since it was sealed."""

from __future__ import annotations

import datetime as dt
import sys
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone
from django.utils.translation import gettext as _

from imsclinic.core.audit import ChainBreak, chain_head, seal_pending, unsealed, verify_chain
from imsclinic.core.checkpoints import checkpoint_problems, checkpoints_read

# Redrawing the bar for every row would cost more than hashing the row.
_PROGRESS_STEP = 500


def _utc(at: dt.datetime | None) -> str:
    if at is None:
        return "?"
    return at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Command(BaseCommand):
    help = (
        "Walk the audit log's hash chain from its first sealed row to its last, checking "
        "that each row still matches its seal and each seal links to the one before it; "
        "report rows the worker has not sealed within AUDIT_SEAL_WITHIN_SECONDS; and compare "
        "the chain with every checkpoint in AUDIT_CHECKPOINT_FILE, so that rows cut off the "
        "end of the log, an emptied log, or a log rewritten with fresh hashes show too. "
        "Prints how many rows were verified and exits 0, or says what is wrong and exits 1. "
        "What it cannot show: a row removed before it was sealed (seconds after it was "
        "written), or changes made after the newest checkpoint by someone able to rewrite "
        "the database and recompute every hash since; the next checkpoint, kept elsewhere, "
        "narrows that window. The database itself refuses UPDATE, DELETE and TRUNCATE of "
        "audit rows and seals."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--seal",
            action="store_true",
            help="Seal rows waiting to be sealed first (as the worker does every second).",
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=2000,
            help="How many rows to read from the database at a time (default 2000).",
        )

    def handle(
        self, *args: Any, seal: bool, batch_size: int, verbosity: int, **options: Any
    ) -> None:
        if batch_size < 1:
            self.stderr.write(_("--batch-size must be at least 1."))
            sys.exit(2)
        if seal:
            sealed = seal_pending()
            if verbosity >= 1:
                self.stdout.write(_("Sealed %(n)s rows that were waiting.") % {"n": sealed})
        checked, last_id, broken = self._walk(batch_size, verbosity)
        problems: list[str] = []
        if broken is not None:
            problems.append(
                _("Audit log broken at row #%(id)s (%(at)s): %(reason)s.")
                % {"id": broken.event_id, "at": _utc(broken.at), "reason": broken.reason}
            )
            if verbosity >= 2:
                problems.append(_("%(n)s rows before it verified.") % {"n": checked})

        notes: list[str] = []
        bound = dt.timedelta(seconds=settings.AUDIT_SEAL_WITHIN_SECONDS)
        now = timezone.now()
        late = unsealed(written_before=now - bound)
        if late.rows:
            problems.append(
                _(
                    "%(n)s audit rows written more than %(bound)s ago are not sealed (the "
                    "oldest, #%(id)s, at %(at)s): is the task worker running, or a "
                    "transaction left open?"
                )
                % {"n": late.rows, "bound": bound, "id": late.oldest_id, "at": _utc(late.oldest_at)}
            )
        waiting = unsealed(written_before=None).rows - late.rows
        if waiting:
            notes.append(
                _("%(n)s rows written in the last %(bound)s wait to be sealed.")
                % {"n": waiting, "bound": bound}
            )

        file = checkpoints_read()
        problems.extend(file.problems)
        problems.extend(checkpoint_problems(file.checkpoints))
        latest = file.latest
        if latest is None:
            notes.append(
                _("No checkpoint of this database in %(path)s to compare with.")
                % {"path": file.path}
            )
        elif broken is None and not problems:
            notes.append(
                _("The chain matches every checkpoint; the newest, of %(at)s, counted %(n)s rows.")
                % {"at": latest.at_utc, "n": latest.rows}
            )
        if file.other_databases:
            notes.append(
                _("%(n)s checkpoints of other databases in %(path)s were left aside.")
                % {"n": file.other_databases, "path": file.path}
            )

        if problems:
            for problem in problems:
                self.stderr.write(self.style.ERROR(problem))
            for note in notes:
                self.stderr.write(note)
            sys.exit(1)
        self.stdout.write(
            self.style.SUCCESS(_("Audit log intact: %(n)s rows verified.") % {"n": checked})
        )
        for note in notes:
            self.stdout.write(note)
        if verbosity >= 2 and last_id is not None:
            head = chain_head()
            self.stdout.write(
                _("Last row #%(id)s, position %(n)s, hash %(hash)s")
                % {"id": last_id, "n": head.rows, "hash": head.hash}
            )

    def _walk(self, batch_size: int, verbosity: int) -> tuple[int, int | None, ChainBreak | None]:
        checked = 0
        last_id: int | None = None
        walk = verify_chain(batch_size=batch_size)
        if not (verbosity >= 1 and self.stdout.isatty()):
            for item in walk:
                if isinstance(item, ChainBreak):
                    return checked, last_id, item
                checked += 1
                last_id = item
            return checked, last_id, None

        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        with Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), transient=True
        ) as progress:
            task = progress.add_task(_("Verifying the audit log"), total=chain_head().rows)
            for item in walk:
                if isinstance(item, ChainBreak):
                    return checked, last_id, item
                checked += 1
                last_id = item
                if checked % _PROGRESS_STEP == 0:
                    progress.update(task, completed=checked)
        return checked, last_id, None
