"""Write an encrypted backup of the clinic, check one, or make a new backup key."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from imsclinic.core.backup import archive, crypto, rotation
from imsclinic.core.backup.archive import BackupError, Made, NoProgress, Progress
from imsclinic.core.checkpoints import checkpoint_write


class Command(BaseCommand):
    # The system checks open the database, which for SQLite would create the file.
    requires_system_checks: list[str] = []
    help = (
        "Write one encrypted, compressed backup file holding the database, every stored "
        "file under MEDIA_ROOT and a manifest (--output FILE, or --output-dir DIR for a "
        "file named by the time, checked once written, with --rotate to thin out old ones); "
        "check a backup without restoring it (--check FILE); or print a new backup key "
        "(--generate-key). The key is read from the BACKUP_KEY environment variable. "
        "See docs/BACKUP.md."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        what = parser.add_mutually_exclusive_group(required=True)
        what.add_argument("--output", type=Path, metavar="FILE", help="Write the backup here.")
        what.add_argument(
            "--output-dir",
            type=Path,
            metavar="DIR",
            help="Write imsclinic-<UTC time>.imsbackup into this folder, then check it.",
        )
        what.add_argument(
            "--check",
            type=Path,
            metavar="FILE",
            help="Decrypt and check this backup against its manifest; restore nothing.",
        )
        what.add_argument(
            "--generate-key",
            action="store_true",
            help="Print a new random backup key for BACKUP_KEY and exit.",
        )
        parser.add_argument(
            "--rotate",
            metavar="DAILY,WEEKLY,MONTHLY",
            help=(
                "With --output-dir, once the new backup is checked: keep the newest backup of "
                "each of the last DAILY days, WEEKLY weeks and MONTHLY months that have one "
                "(e.g. 14,8,12) and remove the folder's other backups."
            ),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["rotate"] and not options["output_dir"]:
            raise CommandError(_("--rotate goes with --output-dir."))
        if options["generate_key"]:
            self._generate_key()
            return
        policy = None
        if options["rotate"]:
            try:
                policy = rotation.parse_policy(options["rotate"])
            except ValueError as error:
                raise CommandError(str(error)) from None
        try:
            key = archive.key_from_environment()
            if options["check"]:
                self._check(options["check"], key, options["verbosity"])
                return
            self._checkpoint()
            if options["output"]:
                self._summary(self._make(lambda p: archive.make(options["output"], key, p)))
            else:
                folder: Path = options["output_dir"]
                made = self._make(lambda p: archive.make_in_folder(folder, key, p))
                self._summary(made)
                with self._progress() as progress:
                    archive.verify(made.path, key, progress)
                self.stdout.write(_("Checked: the new backup decrypts and matches its manifest."))
                if policy is not None:
                    self._rotate(folder, policy)
        except BackupError as error:
            raise CommandError(str(error)) from None

    def _checkpoint(self) -> None:
        """Seal what waits and anchor the audit chain's head outside the database first."""
        try:
            checkpoint = checkpoint_write(reason="backup")
        except OSError as error:
            # The backup matters more than its checkpoint: say so loudly and go on.
            self.stderr.write(
                _("Warning: the audit checkpoint could not be written (%(error)s).")
                % {"error": error}
            )
            return
        self.stdout.write(
            _("Audit checkpoint: %(rows)s rows, head %(head)s.")
            % {"rows": checkpoint.rows, "head": checkpoint.head[:16]}
        )

    def _generate_key(self) -> None:
        key = crypto.generate_key()
        self.stdout.write(key)
        self.stderr.write(
            _(
                "A new backup key (key id %(id)s). Put it in the BACKUP_KEY environment "
                "variable of the backup job (a file readable by root only, e.g. "
                "/etc/imsclinic/backup.env) and keep a copy away from this server, such as in "
                "the clinic's password manager or printed in the safe: without it no backup "
                "made with it can ever be read."
            )
            % {"id": crypto.key_id(crypto.parse_key(key))}
        )

    @contextlib.contextmanager
    def _progress(self) -> Iterator[Progress]:
        if self.stdout.isatty() and sys.stderr.isatty():
            from imsclinic.core.backup.progress import TerminalProgress

            with TerminalProgress() as bar:
                yield bar
        else:
            yield NoProgress()

    def _make(self, write: Any) -> Made:
        with self._progress() as progress:
            made: Made = write(progress)
        if made.skipped_links:
            self.stderr.write(
                _("Left out %(n)s symbolic links under MEDIA_ROOT (only real files are kept).")
                % {"n": made.skipped_links}
            )
        return made

    def _summary(self, made: Made) -> None:
        manifest = made.manifest
        self.stdout.write(
            self.style.SUCCESS(
                _(
                    "Backup written to %(path)s: %(size)s, %(rows)s rows in %(tables)s tables, "
                    "%(files)s, audit chain of %(audit)s rows, in %(seconds).1f s."
                )
                % {
                    "path": made.path,
                    "size": archive.size_text(made.size),
                    "rows": f"{manifest.rows:,}",
                    "tables": len(manifest.row_counts),
                    "files": archive.stored_files(len(manifest.media)),
                    "audit": f"{manifest.audit_rows:,}",
                    "seconds": made.seconds,
                }
            )
        )

    def _check(self, path: Path, key: bytes, verbosity: int) -> None:
        with self._progress() as progress:
            manifest = archive.verify(path, key, progress)
        self.stdout.write(
            self.style.SUCCESS(
                _("Backup %(path)s is good: %(what)s.")
                % {"path": path, "what": archive.describe(manifest)}
            )
        )
        if verbosity >= 2:
            for app, names in manifest.migrations.items():
                self.stdout.write(f"  {app}: {names[-1]} ({len(names)})")

    def _rotate(self, folder: Path, policy: rotation.Policy) -> None:
        decided = archive.rotate(folder, policy)
        self.stdout.write(
            _(
                "Rotation (%(d)s daily, %(w)s weekly, %(m)s monthly): kept %(kept)s backups, "
                "removed %(removed)s."
            )
            % {
                "d": policy.daily,
                "w": policy.weekly,
                "m": policy.monthly,
                "kept": len(decided.keep),
                "removed": len(decided.remove),
            }
        )
        for name in decided.remove:
            self.stdout.write(_("  removed %(name)s") % {"name": name})
