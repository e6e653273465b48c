"""Write a checkpoint of the audit chain's head outside the database, now."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import gettext as _

from imsclinic.core.checkpoints import checkpoint_file, checkpoint_write


class Command(BaseCommand):
    help = (
        "Seal the audit rows waiting to be sealed, append the chain's head (time, rows, "
        "newest hash) to AUDIT_CHECKPOINT_FILE and email it to the clinic's owners. The "
        "worker does this daily and `backup` at every backup; verify_audit_log compares the "
        "log with these checkpoints."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--reason",
            default="by hand",
            help="Why the checkpoint is taken, written in it (default: 'by hand').",
        )

    def handle(self, *args: Any, reason: str, **options: Any) -> None:
        checkpoint = checkpoint_write(reason=reason)
        self.stdout.write(
            _("Checkpoint written to %(path)s: %(rows)s rows, head %(head)s.")
            % {"path": checkpoint_file(), "rows": checkpoint.rows, "head": checkpoint.head}
        )
