"""Check that no audit row was altered, removed or slipped in since it was written."""

from __future__ import annotations

import datetime as dt
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import gettext as _

from imsclinic.core.audit import ChainBreak, verify_chain
from imsclinic.core.models import AuditEvent

# Redrawing the bar for every row would cost more than hashing the row.
_PROGRESS_STEP = 500


def _utc(at: dt.datetime | None) -> str:
    if at is None:
        return "?"
    return at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Command(BaseCommand):
    help = (
        "Walk the audit log from its first row to its last, checking that each row still "
        "matches its hash and links to the row before it. Prints how many rows were "
        "verified and exits 0, or names the first bad row and exits 1. What a chain cannot "
        "show: rows cut off the end of the log (the newest rows deleted) leave a shorter "
        "chain that still verifies, and someone able to write to the database directly "
        "could rewrite every row after a change and recompute every hash. To catch either, "
        "run with -v 2, keep the last row's id and hash it prints somewhere outside the "
        "database, and compare them on a later run. On PostgreSQL a trigger also refuses "
        "UPDATE and DELETE of audit rows."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--batch-size",
            type=int,
            default=2000,
            help="How many rows to read from the database at a time (default 2000).",
        )

    def handle(self, *args: Any, batch_size: int, verbosity: int, **options: Any) -> None:
        if batch_size < 1:
            self.stderr.write(_("--batch-size must be at least 1."))
            sys.exit(2)
        checked = 0
        last_id: int | None = None
        broken: ChainBreak | None = None
        show_progress = verbosity >= 1 and self.stdout.isatty()
        walk = verify_chain(batch_size=batch_size)
        if show_progress:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

            total = AuditEvent.objects.count()
            with Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                transient=True,
            ) as progress:
                task = progress.add_task(_("Verifying the audit log"), total=total)
                for item in walk:
                    if isinstance(item, ChainBreak):
                        broken = item
                        break
                    checked += 1
                    last_id = item
                    if checked % _PROGRESS_STEP == 0:
                        progress.update(task, completed=checked)
        else:
            for item in walk:
                if isinstance(item, ChainBreak):
                    broken = item
                    break
                checked += 1
                last_id = item

        if broken is not None:
            self.stderr.write(
                self.style.ERROR(
                    _("Audit log broken at row #%(id)s (%(at)s): %(reason)s.")
                    % {"id": broken.event_id, "at": _utc(broken.at), "reason": broken.reason}
                )
            )
            if verbosity >= 2:
                self.stderr.write(_("%(n)s rows before it verified.") % {"n": checked})
            sys.exit(1)

        self.stdout.write(
            self.style.SUCCESS(_("Audit log intact: %(n)s rows verified.") % {"n": checked})
        )
        if verbosity >= 2 and last_id is not None:
            last = AuditEvent.objects.only("hash").get(pk=last_id)
            self.stdout.write(
                _("Last row #%(id)s, hash %(hash)s") % {"id": last_id, "hash": last.hash}
            )
