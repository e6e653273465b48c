"""Make, check and restore a backup file: the database, the stored files and a manifest.

Inside the encryption (see crypto.py) a backup is a gzip-compressed tar stream of
`database/<dump>`, `media/<path>` for every file under MEDIA_ROOT, and `manifest.json` last,
which records the app version, the database vendor, every applied migration, the row count
of every table, the audit chain's head, the creation time and the size and SHA-256 of every
other part. Reading a backup authenticates every byte and checks every part against the
manifest in a temporary folder before anything is restored.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import importlib.metadata
import io
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
import time
import tomllib
import zlib
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, Protocol

from django.conf import settings
from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from imsclinic.core.audit import ChainBreak, chain_head, verify_chain
from imsclinic.core.backup import crypto, database, rotation
from imsclinic.core.backup.database import VENDOR_NAMES, Facts

MANIFEST_NAME = "manifest.json"
MANIFEST_FORMAT = 1
_COPY_BLOCK = 1 << 20


class BackupError(Exception):
    """A backup could not be made, read or restored; the message says why in plain words."""


class Progress(Protocol):
    """Where the long steps report how far they are (a terminal bar, or nothing)."""

    def step(self, description: str, total: int | None = None) -> None: ...

    def advance(self, amount: int) -> None: ...


class NoProgress:
    def step(self, description: str, total: int | None = None) -> None:
        pass

    def advance(self, amount: int) -> None:
        pass


@dataclass(frozen=True)
class Part:
    name: str
    size: int
    sha256: str


@dataclass(frozen=True)
class Manifest:
    created_at: str
    app_version: str
    git_commit: str | None
    vendor: str
    server_version: str
    database_file: str
    migrations: dict[str, list[str]]
    row_counts: dict[str, int]
    audit_rows: int
    audit_hash: str
    parts: list[Part]
    format: int = MANIFEST_FORMAT

    @property
    def rows(self) -> int:
        return sum(self.row_counts.values())

    @property
    def media(self) -> list[Part]:
        return [part for part in self.parts if part.name.startswith("media/")]

    def to_json(self) -> bytes:
        data = asdict(self)
        return json.dumps(data, indent=2, sort_keys=True).encode("utf-8") + b"\n"

    @classmethod
    def from_json(cls, raw: bytes) -> Manifest:
        data = json.loads(raw)
        if data.get("format") != MANIFEST_FORMAT:
            raise BackupError(
                _("This backup's manifest is in format %(found)s; this version reads %(ours)s.")
                % {"found": data.get("format"), "ours": MANIFEST_FORMAT}
            )
        data["parts"] = [Part(**part) for part in data["parts"]]
        return cls(**data)


@dataclass
class Made:
    path: Path
    size: int
    manifest: Manifest
    seconds: float
    skipped_links: int = 0


@dataclass
class Opened:
    """A backup decrypted and checked into a temporary folder."""

    folder: Path
    manifest: Manifest

    @property
    def database_file(self) -> Path:
        return self.folder / self.manifest.database_file


@dataclass
class Restored:
    manifest: Manifest
    target: str
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    rows: int = 0
    audit_rows_verified: int = 0
    media_files: int = 0
    seconds: float = 0.0


# --- the key ------------------------------------------------------------------------------


def key_from_environment() -> bytes:
    """Return BACKUP_KEY's bytes, or raise BackupError saying how to set it."""
    try:
        return crypto.parse_key(os.environ.get("BACKUP_KEY"))
    except crypto.BackupKeyError as error:
        raise BackupError(
            _(
                "%(problem)s Set BACKUP_KEY to the clinic's backup key; make a new one with "
                "`python manage.py backup --generate-key` and keep a copy away from this "
                "server (without it no backup can be read). Nothing was written."
            )
            % {"problem": error}
        ) from None


# --- making a backup ----------------------------------------------------------------------


def app_version() -> tuple[str, str | None]:
    """Return the app's version (pyproject) and git commit, when the code is a checkout."""
    base = Path(settings.BASE_DIR)
    version = "unknown"
    try:
        with (base / "pyproject.toml").open("rb") as handle:
            version = str(tomllib.load(handle)["project"]["version"])
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            version = importlib.metadata.version("imsclinic")
    commit: str | None = None
    git = shutil.which("git")
    if git is not None:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            found = subprocess.run(  # noqa: S603  (git found on PATH, fixed arguments)
                [git, "-C", str(base), "rev-parse", "--verify", "HEAD"],
                capture_output=True,
                text=True,
                timeout=10,
                check=False,
            )
            if found.returncode == 0 and found.stdout.strip():
                commit = found.stdout.strip()
    return version, commit


def media_files(root: Path) -> tuple[list[tuple[str, Path]], int]:
    """List every regular file under root as (posix relative path, path); count links skipped."""
    found: list[tuple[str, Path]] = []
    links = 0
    if not root.is_dir():
        return found, links
    for folder, dirs, files in os.walk(root):
        here = Path(folder)
        links += sum(1 for name in dirs if (here / name).is_symlink())
        dirs.sort()
        for name in sorted(files):
            path = here / name
            if path.is_symlink() or not path.is_file():
                links += path.is_symlink()
                continue
            found.append((path.relative_to(root).as_posix(), path))
    return found, links


class _Hashing:
    """Read a file through, hashing it and reporting progress."""

    def __init__(self, source: IO[bytes], progress: Progress) -> None:
        self._source = source
        self._progress = progress
        self.digest = hashlib.sha256()
        self.size = 0

    def read(self, size: int = -1) -> bytes:
        data = self._source.read(size)
        self.digest.update(data)
        self.size += len(data)
        self._progress.advance(len(data))
        return data


def _add_file(tar: tarfile.TarFile, name: str, path: Path, progress: Progress) -> Part:
    stat = path.stat()
    info = tarfile.TarInfo(name)
    info.size = stat.st_size
    info.mtime = int(stat.st_mtime)
    info.mode = 0o600
    with path.open("rb") as source:
        reader = _Hashing(source, progress)
        tar.addfile(info, reader)  # type: ignore[arg-type]
    return Part(name=name, size=reader.size, sha256=reader.digest.hexdigest())


def make(output: Path, key: bytes, progress: Progress | None = None) -> Made:
    """Write one backup file at `output`; a failure leaves nothing under that name."""
    progress = progress or NoProgress()
    started = time.monotonic()
    output = output.absolute()
    if output.exists():
        raise BackupError(
            _("%(path)s already exists; a backup never overwrites another. Choose a new name.")
            % {"path": output}
        )
    if not output.parent.is_dir():
        raise BackupError(_("The folder %(path)s does not exist.") % {"path": output.parent})
    created_at = timezone.now()
    version, commit = app_version()
    media_root = Path(settings.MEDIA_ROOT)
    with tempfile.TemporaryDirectory(prefix="imsclinic-backup-") as staging:
        progress.step(_("Copying the database"))
        try:
            dump_path, facts = database.dump(Path(staging))
        except database.DatabaseProblem as problem:
            raise BackupError(str(problem)) from None
        files, links = media_files(media_root)
        total = dump_path.stat().st_size + sum(path.stat().st_size for _name, path in files)
        progress.step(_("Compressing and encrypting"), total=total)
        handle, partial = tempfile.mkstemp(
            dir=output.parent, prefix=f".{output.name}.", suffix=".partial"
        )
        try:
            with os.fdopen(handle, "wb") as sink:
                writer = crypto.EncryptingWriter(sink, key)
                with tarfile.open(fileobj=writer, mode="w|gz", compresslevel=6) as tar:
                    parts = [_add_file(tar, f"database/{dump_path.name}", dump_path, progress)]
                    for name, path in files:
                        parts.append(_add_file(tar, f"media/{name}", path, progress))
                    manifest = _manifest(created_at, version, commit, facts, dump_path, parts)
                    raw = manifest.to_json()
                    info = tarfile.TarInfo(MANIFEST_NAME)
                    info.size = len(raw)
                    info.mtime = int(created_at.timestamp())
                    info.mode = 0o600
                    tar.addfile(info, io.BytesIO(raw))
                writer.finish()
                sink.flush()
                os.fsync(sink.fileno())
            _move_into_place(partial, output)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(partial)
            raise
    database.fsync_folder(output.parent)
    return Made(
        path=output,
        size=output.stat().st_size,
        manifest=manifest,
        seconds=time.monotonic() - started,
        skipped_links=links,
    )


def _move_into_place(partial: str, output: Path) -> None:
    """Give the finished file its name, never replacing a file that appeared meanwhile."""
    try:
        os.link(partial, output)
    except FileExistsError:
        raise BackupError(
            _("%(path)s already exists; a backup never overwrites another. Choose a new name.")
            % {"path": output}
        ) from None
    except OSError:
        os.replace(partial, output)  # a file system without hard links
    else:
        os.unlink(partial)


def _manifest(
    created_at: dt.datetime,
    version: str,
    commit: str | None,
    facts: Facts,
    dump_path: Path,
    parts: list[Part],
) -> Manifest:
    return Manifest(
        created_at=created_at.astimezone(dt.UTC).isoformat(timespec="seconds"),
        app_version=version,
        git_commit=commit,
        vendor=facts.vendor,
        server_version=facts.server_version,
        database_file=f"database/{dump_path.name}",
        migrations=facts.migrations,
        row_counts=facts.row_counts,
        audit_rows=facts.chain.rows,
        audit_hash=facts.chain.hash,
        parts=parts,
    )


# --- reading a backup back ----------------------------------------------------------------


class _Counting:
    def __init__(self, source: IO[bytes], progress: Progress) -> None:
        self._source = source
        self._progress = progress

    def read(self, size: int = -1) -> bytes:
        data = self._source.read(size)
        self._progress.advance(len(data))
        return data


def _member_path(folder: Path, name: str) -> Path:
    """Return where a member goes, refusing any name that could land outside the folder."""
    pure = PurePosixPath(name)
    allowed_top = pure.parts[:1] in (("database",), ("media",)) and len(pure.parts) >= 2
    if pure.is_absolute() or ".." in pure.parts or not (name == MANIFEST_NAME or allowed_top):
        raise BackupError(
            _("The backup holds an unexpected entry %(name)r; it was not made by imsclinic.")
            % {"name": name}
        )
    return folder.joinpath(*pure.parts)


@contextlib.contextmanager
def opened(path: Path, key: bytes, progress: Progress | None = None) -> Iterator[Opened]:
    """Decrypt the backup into a temporary folder, check every part, and yield it.

    Raises BackupError for a wrong key, a damaged, cut-short or foreign file, or any part
    that does not match the manifest. The folder is removed afterwards.
    """
    progress = progress or NoProgress()
    path = path.absolute()
    if not path.is_file():
        raise BackupError(_("%(path)s is not a file.") % {"path": path})
    with tempfile.TemporaryDirectory(prefix="imsclinic-restore-") as work:
        folder = Path(work)
        progress.step(_("Decrypting and checking"), total=path.stat().st_size)
        found = _extract(path, key, folder, progress)
        manifest = _check_parts(folder, found)
        problems = database.check_dump(
            manifest.vendor, folder / manifest.database_file, manifest.row_counts
        )
        if problems:
            raise BackupError(
                _("The database copy in this backup does not match its manifest: %(list)s.")
                % {"list": "; ".join(problems)}
            )
        yield Opened(folder=folder, manifest=manifest)


def _extract(path: Path, key: bytes, folder: Path, progress: Progress) -> dict[str, Part]:
    found: dict[str, Part] = {}
    try:
        with path.open("rb") as raw:
            reader = crypto.DecryptingReader(_Counting(raw, progress), key)  # type: ignore[arg-type]
            buffered = io.BufferedReader(reader, _COPY_BLOCK)
            with tarfile.open(fileobj=buffered, mode="r|gz") as tar:
                for member in tar:
                    if member.name in found or not member.isreg():
                        raise BackupError(
                            _("The backup holds an unexpected entry %(name)r.")
                            % {"name": member.name}
                        )
                    target = _member_path(folder, member.name)
                    target.parent.mkdir(parents=True, exist_ok=True)
                    source = tar.extractfile(member)
                    assert source is not None  # a regular file always has contents
                    digest = hashlib.sha256()
                    size = 0
                    with target.open("xb") as out:
                        while block := source.read(_COPY_BLOCK):
                            digest.update(block)
                            size += len(block)
                            out.write(block)
                    found[member.name] = Part(member.name, size, digest.hexdigest())
            # The archive may end before the last encrypted chunk: read and prove the rest.
            while buffered.read(_COPY_BLOCK):
                pass
            if not reader.finished:
                raise BackupError(_cut_short())
    except crypto.WrongKey as error:
        raise BackupError(str(error)) from None
    except crypto.Damaged as error:
        raise BackupError(str(error)) from None
    except (tarfile.TarError, EOFError, zlib.error) as error:
        # Authenticated bytes that are not an archive: made by something else with our key.
        raise BackupError(
            _("The backup decrypts but is not a readable archive (%(error)s).") % {"error": error}
        ) from None
    except OSError as error:
        raise BackupError(
            _(
                "The backup could not be read and unpacked (%(error)s). Is the file readable, "
                "and is there room in the temporary folder (TMPDIR) for a copy of it?"
            )
            % {"error": error}
        ) from None
    return found


def _cut_short() -> str:
    return _("The backup file is incomplete: it ends before its last part.")


def _check_parts(folder: Path, found: dict[str, Part]) -> Manifest:
    if MANIFEST_NAME not in found:
        raise BackupError(_("The backup has no manifest; it is incomplete."))
    try:
        manifest = Manifest.from_json((folder / MANIFEST_NAME).read_bytes())
    except (ValueError, TypeError, KeyError) as error:
        raise BackupError(
            _("The backup's manifest cannot be read (%(error)s).") % {"error": error}
        ) from None
    listed = {part.name: part for part in manifest.parts}
    problems = []
    for name, part in sorted(listed.items()):
        if name not in found:
            problems.append(_("%(name)s is missing") % {"name": name})
        elif found[name] != part:
            problems.append(_("%(name)s does not match its checksum") % {"name": name})
    extra = set(found) - set(listed) - {MANIFEST_NAME}
    problems += [_("%(name)s is not in the manifest") % {"name": name} for name in sorted(extra)]
    if manifest.database_file not in listed:
        problems.append(_("the manifest names no database copy"))
    if problems:
        raise BackupError(
            _("The backup's parts do not match its manifest: %(list)s.")
            % {"list": "; ".join(problems)}
        )
    return manifest


# --- restoring ----------------------------------------------------------------------------


def _media_root_files(root: Path) -> int:
    if not root.exists():
        return 0
    if not root.is_dir():
        return 1
    return sum(len(files) for _folder, _dirs, files in os.walk(root))


def require_empty_media(root: Path) -> None:
    count = _media_root_files(root)
    if count:
        raise BackupError(
            _(
                "MEDIA_ROOT (%(path)s) is not empty (%(count)s files). A backup restores its "
                "stored files only into an empty or missing folder: point MEDIA_ROOT at a new "
                "one. Nothing was written."
            )
            % {"path": root, "count": count}
        )


def _require_empty_targets(media_root: Path) -> None:
    try:
        database.require_empty_target()
    except database.DatabaseProblem as problem:
        raise BackupError(str(problem)) from None
    except DatabaseError as error:
        raise BackupError(
            _("Cannot reach the %(target)s (%(error)s). Create it first. Nothing was written.")
            % {"target": database.target_description(), "error": str(error).strip()}
        ) from None
    require_empty_media(media_root)


def restore(path: Path, key: bytes, progress: Progress | None = None) -> Restored:
    """Restore the backup into the empty database and MEDIA_ROOT; then check the result.

    Everything is decrypted and checked before the first write. Raises BackupError when
    nothing was written; after writing, what does not match goes in `problems`.
    """
    progress = progress or NoProgress()
    started = time.monotonic()
    media_root = Path(settings.MEDIA_ROOT)
    _require_empty_targets(media_root)
    with opened(path, key, progress) as backup:
        manifest = backup.manifest
        ours = database.vendor()
        if manifest.vendor != ours:
            raise BackupError(
                _(
                    "This is a backup of a %(theirs)s database; DATABASE_URL names a %(ours)s "
                    "database. A backup restores only into the same kind of database: point "
                    "DATABASE_URL at a new, empty %(theirs)s database. Nothing was written."
                )
                % {
                    "theirs": VENDOR_NAMES.get(manifest.vendor, manifest.vendor),
                    "ours": VENDOR_NAMES[ours],
                }
            )
        _require_empty_targets(media_root)
        report = Restored(manifest=manifest, target=database.target_description())
        progress.step(_("Restoring the database"))
        try:
            database.restore(manifest.vendor, backup.database_file)
        except database.DatabaseProblem as problem:
            raise BackupError(
                _("The database could not be restored, and was left as it was (empty): %(problem)s")
                % {"problem": problem}
            ) from None
        progress.step(_("Restoring stored files"), total=len(manifest.media))
        try:
            _restore_media(backup.folder, manifest, media_root, progress)
        except OSError as error:
            report.problems.append(
                _(
                    "The database was restored but the stored files could not be written "
                    "(%(error)s). Drop the new database, empty MEDIA_ROOT and restore again."
                )
                % {"error": error}
            )
            return report
    progress.step(_("Checking the restored clinic"))
    _check_restored(report, media_root, progress)
    report.seconds = time.monotonic() - started
    return report


def _restore_media(folder: Path, manifest: Manifest, root: Path, progress: Progress) -> None:
    if manifest.media and not root.exists():
        root.mkdir(mode=0o700, parents=True)  # stored files may be health records
    for part in manifest.media:
        relative = PurePosixPath(part.name).relative_to("media")
        target = root.joinpath(*relative.parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(folder / part.name, target)
        progress.advance(1)


def _check_restored(report: Restored, media_root: Path, progress: Progress) -> None:
    manifest = report.manifest
    try:
        facts = database.read_facts()
    except DatabaseError as error:
        report.problems.append(
            _("The restored database cannot be read (%(error)s).") % {"error": error}
        )
        return
    report.rows = facts.rows
    expected, got = manifest.row_counts, facts.row_counts
    for table in sorted(set(expected) | set(got)):
        if expected.get(table) != got.get(table):
            report.problems.append(
                _("Table %(table)s: %(got)s rows restored, %(expected)s in the backup.")
                % {"table": table, "got": got.get(table, "no"), "expected": expected.get(table)}
            )
    if facts.migrations != manifest.migrations:
        report.problems.append(_("The applied migrations differ from the backup's."))
    executor = MigrationExecutor(connection)
    pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if pending:
        report.notes.append(
            _(
                "This version of imsclinic has %(count)s migrations the backup had not applied: "
                "run `python manage.py migrate` before serving."
            )
            % {"count": len(pending)}
        )
    _check_chain(report)
    for part in manifest.media:
        relative = PurePosixPath(part.name).relative_to("media")
        restored = media_root.joinpath(*relative.parts)
        if not restored.is_file() or _sha256(restored) != part.sha256:
            report.problems.append(
                _("Stored file %(name)s was not restored intact.") % {"name": relative}
            )
        else:
            report.media_files += 1


def _check_chain(report: Restored) -> None:
    manifest = report.manifest
    try:
        for item in verify_chain():
            if isinstance(item, ChainBreak):
                report.problems.append(
                    _("The audit chain is broken at row #%(id)s: %(reason)s.")
                    % {"id": item.event_id, "reason": item.reason}
                )
                return
            report.audit_rows_verified += 1
        head = chain_head()
    except DatabaseError as error:
        report.problems.append(
            _("The audit chain could not be checked (%(error)s).") % {"error": error}
        )
        return
    if (head.rows, head.hash) != (manifest.audit_rows, manifest.audit_hash):
        report.problems.append(
            _(
                "The audit chain ends at row %(rows)s with hash %(hash)s; the backup recorded "
                "%(b_rows)s rows ending %(b_hash)s."
            )
            % {
                "rows": head.rows,
                "hash": head.hash[:16],
                "b_rows": manifest.audit_rows,
                "b_hash": manifest.audit_hash[:16],
            }
        )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while block := source.read(_COPY_BLOCK):
            digest.update(block)
    return digest.hexdigest()


# --- describing ---------------------------------------------------------------------------


def size_text(size: int) -> str:
    """Return a byte count as people read it (kB, MB, GB, in powers of 1000)."""
    value = float(size)
    for unit in ("bytes", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{int(value)} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{size} bytes"


def describe(manifest: Manifest) -> str:
    """Say in one line what a backup holds (counts only: never any row's contents)."""
    commit = f" ({manifest.git_commit[:12]})" if manifest.git_commit else ""
    return _(
        "made %(when)s by imsclinic %(version)s%(commit)s from %(vendor)s: %(rows)s rows in "
        "%(tables)s tables, audit chain of %(audit)s rows ending %(hash)s, %(files)s"
    ) % {
        "when": manifest.created_at,
        "version": manifest.app_version,
        "commit": commit,
        "vendor": VENDOR_NAMES.get(manifest.vendor, manifest.vendor),
        "rows": f"{manifest.rows:,}",
        "tables": len(manifest.row_counts),
        "audit": f"{manifest.audit_rows:,}",
        "hash": manifest.audit_hash[:16],
        "files": stored_files(len(manifest.media)),
    }


def stored_files(count: int) -> str:
    """Return '1 stored file' or 'N stored files'."""
    return ngettext("%(n)s stored file", "%(n)s stored files", count) % {"n": count}


def verify(path: Path, key: bytes, progress: Progress | None = None) -> Manifest:
    """Decrypt and check a backup without restoring it; return its manifest."""
    with opened(path, key, progress) as backup:
        return backup.manifest


# --- the nightly job ----------------------------------------------------------------------


def make_in_folder(folder: Path, key: bytes, progress: Progress | None = None) -> Made:
    """Write a backup named by its time (imsclinic-YYYYMMDDTHHMMSSZ.imsbackup) into the folder."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return make(folder / rotation.backup_name(timezone.now()), key, progress)


def rotate(folder: Path, policy: rotation.Policy) -> rotation.Plan:
    """Remove the folder's backups the policy does not keep; leave every other file alone."""
    decided = rotation.plan((entry.name for entry in folder.iterdir() if entry.is_file()), policy)
    for name in decided.remove:
        (folder / name).unlink()
    return decided
