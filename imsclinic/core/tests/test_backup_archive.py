"""A backup file is written whole or not at all, and is read back only if every part checks out."""

from __future__ import annotations

import hashlib
import io
import tarfile
from pathlib import Path

import pytest

from imsclinic.core.audit import ChainHead
from imsclinic.core.backup import archive, crypto, database
from imsclinic.core.backup.archive import BackupError, Manifest, Part
from imsclinic.core.backup.database import Facts

KEY = crypto.parse_key(crypto.generate_key())
DUMP = b"a stand-in database copy"


def sealed_archive(members: dict[str, bytes]) -> bytes:
    """Return an encrypted tar.gz holding these members, as a backup holds its parts."""
    sink = io.BytesIO()
    writer = crypto.EncryptingWriter(sink, KEY)
    with tarfile.open(fileobj=writer, mode="w|gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    writer.finish()
    return sink.getvalue()


def manifest_for(parts: dict[str, bytes], **changes: object) -> bytes:
    manifest = Manifest(
        created_at="2026-11-16T10:00:00+00:00",
        app_version="0.1.0",
        git_commit=None,
        vendor="sqlite",
        server_version="3",
        database_file="database/database.sqlite3",
        migrations={},
        row_counts={},
        audit_rows=0,
        audit_hash="0" * 64,
        parts=[
            Part(name, len(data), hashlib.sha256(data).hexdigest()) for name, data in parts.items()
        ],
    )
    raw = manifest.to_json()
    for key, value in changes.items():
        raw = raw.replace(key.encode(), str(value).encode())
    return raw


def test_a_backup_that_fails_half_way_leaves_neither_the_file_nor_a_partial_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings: object
) -> None:
    staged = tmp_path / "dump"
    staged.write_bytes(DUMP)
    facts = Facts("sqlite", "3", {}, {}, ChainHead(rows=0, hash="0" * 64))
    monkeypatch.setattr(database, "dump", lambda into: (staged, facts))
    media = tmp_path / "media"
    media.mkdir()
    (media / "scan.pdf").write_bytes(b"%PDF")
    settings.MEDIA_ROOT = str(media)  # type: ignore[attr-defined]
    added = archive._add_file

    def add_then_fail(tar: tarfile.TarFile, name: str, path: Path, progress: object) -> Part:
        if name.startswith("media/"):
            raise OSError("the disk is full")
        return added(tar, name, path, progress)  # type: ignore[arg-type]

    monkeypatch.setattr(archive, "_add_file", add_then_fail)
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(OSError, match="the disk is full"):
        archive.make(out / "clinic.imsbackup", KEY)
    assert list(out.iterdir()) == []


def test_parts_that_match_the_manifest_are_read_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(database, "check_dump", lambda kind, path, counts: [])
    parts = {"database/database.sqlite3": DUMP, "media/a/b.txt": b"file"}
    backup = tmp_path / "ok.imsbackup"
    backup.write_bytes(sealed_archive({**parts, "manifest.json": manifest_for(parts)}))
    assert archive.verify(backup, KEY).parts[1].name == "media/a/b.txt"


@pytest.mark.parametrize(
    ("members", "says"),
    [
        ({"database/database.sqlite3": DUMP}, "has no manifest"),
        (
            {"database/database.sqlite3": b"another dump", "manifest.json": "listed"},
            "does not match its checksum",
        ),
        ({"manifest.json": "listed"}, "database/database.sqlite3 is missing"),
        (
            {"database/database.sqlite3": DUMP, "media/x": b"x", "manifest.json": "listed"},
            "media/x is not in the manifest",
        ),
        ({"../outside.txt": b"x", "manifest.json": "listed"}, "unexpected entry"),
        ({"/etc/cron.d/job": b"x", "manifest.json": "listed"}, "unexpected entry"),
        ({"media/../../up.txt": b"x", "manifest.json": "listed"}, "unexpected entry"),
        ({"settings.py": b"x", "manifest.json": "listed"}, "unexpected entry"),
    ],
)
def test_an_archive_that_does_not_match_its_manifest_or_reaches_outside_is_refused(
    tmp_path: Path, members: dict[str, bytes | str], says: str
) -> None:
    listed = {"database/database.sqlite3": DUMP}
    real = {
        name: manifest_for(listed) if data == "listed" else data for name, data in members.items()
    }
    backup = tmp_path / "odd.imsbackup"
    backup.write_bytes(sealed_archive(real))  # type: ignore[arg-type]
    with pytest.raises(BackupError, match=says):
        archive.verify(backup, KEY)
    assert not (tmp_path.parent / "outside.txt").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["odd.imsbackup"]


def test_a_manifest_of_a_future_format_is_refused_with_what_to_do(tmp_path: Path) -> None:
    parts = {"database/database.sqlite3": DUMP}
    future = manifest_for(parts, **{'"format": 1': '"format": 2'})
    backup = tmp_path / "future.imsbackup"
    backup.write_bytes(sealed_archive({**parts, "manifest.json": future}))
    with pytest.raises(BackupError, match="format 2"):
        archive.verify(backup, KEY)


def test_sizes_read_as_people_write_them() -> None:
    assert archive.size_text(999) == "999 bytes"
    assert archive.size_text(117_527) == "117.5 kB"
    assert archive.size_text(3_400_000) == "3.4 MB"
    assert archive.size_text(12_000_000_000) == "12.0 GB"
