"""Restore an encrypted backup into a new, empty database and an empty MEDIA_ROOT."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from imsclinic.core.backup import archive
from imsclinic.core.backup.archive import BackupError, NoProgress, Restored


class Command(BaseCommand):
    # The system checks open the database, which for SQLite would create the file.
    requires_system_checks: list[str] = []
    help = (
        "Restore a backup file into the database DATABASE_URL names, which must be new and "
        "hold no tables, and its stored files into MEDIA_ROOT, which must be empty or "
        "missing. The whole file is decrypted and checked first: a wrong BACKUP_KEY, a "
        "damaged or cut-short file, or a backup of the other kind of database is refused "
        "before anything is written. Afterwards every table's row count and the audit chain "
        "are checked against the backup; any difference exits non-zero. See docs/BACKUP.md."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="The backup file (.imsbackup).")

    def handle(self, *args: Any, file: Path, **options: Any) -> None:
        try:
            key = archive.key_from_environment()
            if self.stdout.isatty() and sys.stderr.isatty():
                from imsclinic.core.backup.progress import TerminalProgress

                with TerminalProgress() as bar:
                    report = archive.restore(file, key, bar)
            else:
                report = archive.restore(file, key, NoProgress())
        except BackupError as error:
            raise CommandError(str(error)) from None
        self._report(file, report)

    def _report(self, file: Path, report: Restored) -> None:
        manifest = report.manifest
        self.stdout.write(
            _("Restored %(file)s (%(what)s) into the %(target)s in %(seconds).1f s.")
            % {
                "file": file,
                "what": archive.describe(manifest),
                "target": report.target,
                "seconds": report.seconds,
            }
        )
        for note in report.notes:
            self.stdout.write(self.style.WARNING(note))
        if report.problems:
            for problem in report.problems:
                self.stderr.write(self.style.ERROR(problem))
            raise CommandError(
                _(
                    "The restored clinic does not match the backup (%(n)s differences, listed "
                    "above). Do not serve from it; keep the backup file and ask for help."
                )
                % {"n": len(report.problems)}
            )
        self.stdout.write(
            self.style.SUCCESS(
                _(
                    "Checked: %(rows)s rows in %(tables)s tables, each table's count as in the "
                    "backup; audit chain intact (%(audit)s rows, ending as the backup recorded); "
                    "%(files)s, each matching its checksum."
                )
                % {
                    "rows": f"{report.rows:,}",
                    "tables": len(manifest.row_counts),
                    "audit": f"{report.audit_rows_verified:,}",
                    "files": archive.stored_files(report.media_files),
                }
            )
        )
