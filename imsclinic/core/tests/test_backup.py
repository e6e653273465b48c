"""Backups restore: a restore drill on SQLite and PostgreSQL, and every refusal.

The drill runs the real commands in their own processes, as a clinic would: a fresh database
is migrated and filled with the demo clinic plus bookings and a signed needling note made
through the services (drill_clinic.py), with files under MEDIA_ROOT; `manage.py backup`
writes the file; `manage.py restore` puts it into a new, empty database and media folder.
The test then compares the two databases itself, table by table and row by row, compares
the files byte for byte, walks the audit chain, and has the app serve pages from the copy.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest
from django.db import connection

from imsclinic.core.backup import crypto
from imsclinic.core.tests.drill_clinic import MEDIA_FILES

ROOT = Path(__file__).resolve().parents[3]
KEY = crypto.generate_key()
OTHER_KEY = crypto.generate_key()
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
ON_POSTGRES_PASS = os.environ.get("DATABASE_URL", "").startswith("postgres")
# Where the commands these tests run anchor the audit chain (never the checkout's var/).
CHECKPOINTS = Path(tempfile.mkdtemp(prefix="imsclinic-checkpoints-")) / "audit-checkpoints.log"

# The SQLite drill needs no server; the PostgreSQL pass leaves it to the SQLite pass.
VENDORS = [
    pytest.param("sqlite", marks=pytest.mark.sqlite_pass),
    pytest.param("postgresql", marks=pytest.mark.postgres),
]


def environment(**values: str) -> dict[str, str]:
    """Return a clean environment for manage.py: no test settings, DEBUG on, these values."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(
            ("PYTEST", "DJANGO_", "DATABASE_URL", "MEDIA_ROOT", "BACKUP_KEY", "DEBUG", "SECURE_")
        )
    }
    env.update(DEBUG="1", TERM="dumb", AUDIT_CHECKPOINT_FILE=str(CHECKPOINTS), **values)
    return env


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def run_module(env: dict[str, str], module: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", module],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result.stdout


# --- databases, looked at without the code under test -----------------------------------


def server() -> dict[str, str]:
    """The PostgreSQL server the test run uses (DATABASE_URL), for making new databases."""
    settings = connection.settings_dict
    return {
        "host": settings.get("HOST") or "127.0.0.1",
        "port": str(settings.get("PORT") or 5432),
        "user": settings.get("USER") or "postgres",
        "password": settings.get("PASSWORD") or "",
    }


def pg_url(name: str) -> str:
    s = server()
    secret = f":{s['password']}" if s["password"] else ""
    return f"postgres://{s['user']}{secret}@{s['host']}:{s['port']}/{name}"


def pg_connect(name: str) -> psycopg.Connection:
    s = server()
    return psycopg.connect(
        host=s["host"],
        port=s["port"],
        user=s["user"],
        password=s["password"] or None,
        dbname=name,
        autocommit=True,
    )


@contextlib.contextmanager
def new_pg_database(purpose: str) -> Iterator[str]:
    """Create an empty database imsclinic_backup_<purpose>_<random>, and drop it afterwards."""
    name = f"imsclinic_backup_{purpose}_{secrets.token_hex(4)}"
    with pg_connect("postgres") as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        with pg_connect("postgres") as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass(frozen=True)
class Database:
    """A database the test can read directly: a SQLite file or a PostgreSQL database."""

    vendor: str
    name: str  # file path or database name

    @property
    def url(self) -> str:
        return f"sqlite:///{self.name}" if self.vendor == "sqlite" else pg_url(self.name)

    @contextlib.contextmanager
    def _cursor(self) -> Iterator[psycopg.Cursor | sqlite3.Cursor]:
        if self.vendor == "sqlite":
            with contextlib.closing(sqlite3.connect(self.name)) as db:
                yield db.cursor()
        else:
            with pg_connect(self.name) as db:
                yield db.cursor()

    def query(self, sql: str) -> list[tuple[object, ...]]:
        with self._cursor() as cursor:
            cursor.execute(sql)
            return list(cursor.fetchall())

    def tables(self) -> list[str]:
        if self.vendor == "sqlite":
            sql = (
                "SELECT name FROM sqlite_master WHERE type = 'table'"
                " AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        else:
            sql = (
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
                " AND table_type = 'BASE TABLE' ORDER BY table_name"
            )
        return [str(row[0]) for row in self.query(sql)]

    def fingerprint(self) -> dict[str, tuple[int, str]]:
        """Return every table's row count and a hash of all its rows, in any order."""
        found = {}
        for table in self.tables():
            rows = sorted(repr(row) for row in self.query(f'SELECT * FROM "{table}"'))
            found[table] = (len(rows), hashlib.sha256("\n".join(rows).encode()).hexdigest())
        return found


def files_under(folder: Path) -> dict[str, bytes]:
    if not folder.exists():
        return {}
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


# --- the clinic that is backed up ---------------------------------------------------------


@dataclass
class Clinic:
    """A filled clinic, backed up once."""

    vendor: str
    source: Database
    media: Path
    backup: Path
    folder: Path
    backup_output: str
    demo_patient: tuple[int, str, str]
    fingerprint: dict[str, tuple[int, str]] = field(default_factory=dict)
    audit_rows: int = 0
    audit_last_hash: str = ""

    def env(self, **values: str) -> dict[str, str]:
        return environment(DATABASE_URL=self.source.url, MEDIA_ROOT=str(self.media), **values)


def require_postgres() -> None:
    # A module fixture runs before the function-level check in conftest; make the same one.
    if connection.vendor != "postgresql":
        if IN_CI:
            pytest.fail("CI requires PostgreSQL for this test; run with DATABASE_URL=postgres://")
        pytest.skip("needs PostgreSQL: set DATABASE_URL=postgres://...")


@contextlib.contextmanager
def source_database(vendor: str, folder: Path) -> Iterator[Database]:
    if vendor == "sqlite":
        yield Database("sqlite", str(folder / "clinic.sqlite3"))
    else:
        with new_pg_database("src") as name:
            yield Database("postgresql", name)


def fill_and_back_up(vendor: str, source: Database, folder: Path) -> Clinic:
    media = folder / "media"
    env = environment(DATABASE_URL=source.url, MEDIA_ROOT=str(media))
    ok(manage(env, "migrate", "--noinput", "-v", "0"))
    ok(run_module(env, "imsclinic.core.tests.drill_clinic"))
    (demo,) = source.query(
        "SELECT id, given_name, family_name FROM patients_patient"
        " WHERE email = 'patient@example.com'"
    )
    backup = folder / "clinic.imsbackup"
    output = ok(manage({**env, "BACKUP_KEY": KEY}, "backup", "--output", str(backup)))
    ((rows, last_hash),) = source.query(
        "SELECT COUNT(*), (SELECT hash FROM core_auditseal ORDER BY seq DESC LIMIT 1)"
        " FROM core_auditseal"
    )
    return Clinic(
        vendor=vendor,
        source=source,
        media=media,
        backup=backup,
        folder=folder,
        backup_output=output,
        demo_patient=(int(demo[0]), str(demo[1]), str(demo[2])),  # type: ignore[call-overload]
        fingerprint=source.fingerprint(),
        audit_rows=int(rows),  # type: ignore[call-overload]
        audit_last_hash=str(last_hash),
    )


@pytest.fixture(scope="module")
def clinics(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], Clinic]]:
    """Build each kind of clinic once for the whole module, when first asked for."""
    built: dict[str, Clinic] = {}
    with contextlib.ExitStack() as stack:

        def clinic_of(vendor: str) -> Clinic:
            if vendor not in built:
                folder = tmp_path_factory.mktemp(f"clinic-{vendor}")
                source = stack.enter_context(source_database(vendor, folder))
                built[vendor] = fill_and_back_up(vendor, source, folder)
            return built[vendor]

        yield clinic_of


@pytest.fixture(scope="module", params=VENDORS)
def clinic(request: pytest.FixtureRequest, clinics: Callable[[str], Clinic]) -> Clinic:
    if request.param == "postgresql":
        require_postgres()
    return clinics(request.param)


@pytest.fixture(scope="module")
def sqlite_clinic(clinics: Callable[[str], Clinic]) -> Clinic:
    """The SQLite clinic, for the refusals (the same code refuses on either database)."""
    if ON_POSTGRES_PASS:
        pytest.skip("SQLite backups are tested in the SQLite pass only")
    return clinics("sqlite")


# --- the drill ----------------------------------------------------------------------------

SERVE = """
import json
from django.core.management import call_command
from django.test import Client
from django.test.utils import setup_test_environment

setup_test_environment()  # lets the test client's host in and keeps email in memory
call_command("check", "--database", "default")
call_command("migrate", "--check")  # exits non-zero if the schema is behind the code
from imsclinic.accounts.middleware import SESSION_MFA_PROVEN
from imsclinic.accounts.models import User

client = Client()
home = client.get("/")
client.force_login(User.objects.get(email="owner@cedarims.test"))
session = client.session
session[SESSION_MFA_PROVEN] = True
session.save()
chart = client.get("/staff/patients/%(patient)s/")
print(json.dumps({
    "home": [home.status_code, home.content.decode()],
    "patient": [chart.status_code, chart.content.decode()],
}))
"""


@dataclass
class Drill:
    clinic: Clinic
    target: Database
    media: Path
    restore_output: str
    fingerprint: dict[str, tuple[int, str]]
    files: dict[str, bytes]
    chain_output: str
    pages: dict[str, list[object]]


@pytest.fixture(scope="module")
def drill(clinic: Clinic) -> Iterator[Drill]:
    """Restore the clinic's backup into a new database and folder; look at what came back."""
    media = clinic.folder / "restored-media"
    with contextlib.ExitStack() as stack:
        if clinic.vendor == "sqlite":
            target = Database("sqlite", str(clinic.folder / "restored.sqlite3"))
        else:
            target = Database("postgresql", stack.enter_context(new_pg_database("restore")))
        env = environment(DATABASE_URL=target.url, MEDIA_ROOT=str(media), BACKUP_KEY=KEY)
        restored = ok(manage(env, "restore", str(clinic.backup)))
        # Read before the app serves a page: serving adds sessions and audit rows.
        fingerprint = target.fingerprint()
        chain = ok(manage(env, "verify_audit_log", "-v", "2"))
        served = ok(manage(env, "shell", "-c", SERVE % {"patient": clinic.demo_patient[0]}))
        yield Drill(
            clinic=clinic,
            target=target,
            media=media,
            restore_output=restored,
            fingerprint=fingerprint,
            files=files_under(media),
            chain_output=chain,
            pages=json.loads(served.strip().splitlines()[-1]),
        )


def test_a_backup_is_one_file_and_ends_with_a_summary_of_size_rows_and_time(
    clinic: Clinic,
) -> None:
    assert [p.name for p in clinic.folder.iterdir() if "imsbackup" in p.name] == [
        "clinic.imsbackup"
    ]
    summary = clinic.backup_output.strip().splitlines()[-1]
    rows = sum(count for count, _hash in clinic.fingerprint.values())
    assert summary.startswith(f"Backup written to {clinic.backup}: ")
    assert f"{rows:,} rows in {len(clinic.fingerprint)} tables" in summary
    assert " kB," in summary or " MB," in summary
    assert summary.endswith(" s.")


def test_the_restore_reports_every_count_and_the_audit_chain_as_matching(drill: Drill) -> None:
    assert "each table's count as in the backup" in drill.restore_output
    assert "audit chain intact" in drill.restore_output
    assert f"{len(MEDIA_FILES)} stored files, each matching its checksum" in drill.restore_output


def test_every_table_holds_the_same_rows_after_the_restore(drill: Drill) -> None:
    source = drill.clinic.fingerprint
    assert set(drill.fingerprint) == set(source)
    different = [t for t in source if drill.fingerprint[t] != source[t]]
    assert different == []
    # The day's work made through the services is among them.
    assert source["scheduling_appointment"][0] > 0
    assert source["charting_needlingsession"][0] > 0


def test_every_stored_file_comes_back_byte_for_byte(drill: Drill) -> None:
    assert drill.files == MEDIA_FILES
    assert files_under(drill.clinic.media) == MEDIA_FILES


def test_the_backup_anchors_the_audit_chain_it_holds_outside_the_database(
    clinic: Clinic,
) -> None:
    lines = [json.loads(line) for line in CHECKPOINTS.read_text().splitlines() if line]
    anchored = [line for line in lines if line.get("reason") == "backup"]
    assert any(
        line["rows"] == clinic.audit_rows and line["head"] == clinic.audit_last_hash
        for line in anchored
    )
    assert "Audit checkpoint:" in clinic.backup_output


def test_the_audit_chain_verifies_and_ends_where_it_ended_before_the_backup(drill: Drill) -> None:
    assert drill.clinic.audit_rows > 0, "the drill's bookings and note write audit rows"
    assert f"Audit log intact: {drill.clinic.audit_rows} rows verified." in drill.chain_output
    assert drill.clinic.audit_last_hash in drill.chain_output


def test_the_app_serves_the_clinic_and_the_patient_chart_from_the_restored_database(
    drill: Drill,
) -> None:
    status, home = drill.pages["home"]
    assert status == 200
    assert "Cedar IMS Physiotherapy" in str(home)
    status, chart = drill.pages["patient"]
    _id, given, family = drill.clinic.demo_patient
    assert status == 200
    assert given in str(chart)
    assert family in str(chart)


def test_backup_check_and_restore_print_counts_but_never_a_patient(drill: Drill) -> None:
    clinic = drill.clinic
    checked = ok(manage(clinic.env(BACKUP_KEY=KEY), "backup", "--check", str(clinic.backup)))
    assert "is good" in checked
    _id, given, family = clinic.demo_patient
    for output in (clinic.backup_output, drill.restore_output, checked):
        assert given not in output
        assert family not in output
        assert "patient@example.com" not in output


# --- refusals: nothing is ever written ----------------------------------------------------


def restore_into_new(clinic: Clinic, backup: Path, **env: str) -> tuple[str, Database, Path]:
    """Restore into a SQLite file and media folder that do not exist yet; return the output."""
    target = Database("sqlite", str(clinic.folder / f"target-{secrets.token_hex(4)}.sqlite3"))
    media = clinic.folder / f"target-media-{secrets.token_hex(4)}"
    result = manage(
        environment(DATABASE_URL=target.url, MEDIA_ROOT=str(media), **env), "restore", str(backup)
    )
    assert result.returncode != 0, result.stdout
    return result.stderr, target, media


def nothing_written(target: Database, media: Path) -> bool:
    path = Path(target.name)
    leftovers = list(path.parent.glob(f"*{path.name}*"))
    return not leftovers and not media.exists()


@pytest.mark.sqlite_pass
def test_a_backup_without_a_key_is_refused_says_how_to_make_one_and_writes_nothing(
    sqlite_clinic: Clinic, tmp_path: Path
) -> None:
    result = manage(sqlite_clinic.env(), "backup", "--output", str(tmp_path / "b.imsbackup"))
    assert result.returncode != 0
    assert "BACKUP_KEY is not set" in result.stderr
    assert "--generate-key" in result.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.sqlite_pass
def test_a_malformed_key_is_refused_before_anything_is_written(
    sqlite_clinic: Clinic, tmp_path: Path
) -> None:
    result = manage(
        sqlite_clinic.env(BACKUP_KEY="password123"),
        "backup",
        "--output",
        str(tmp_path / "b.imsbackup"),
    )
    assert result.returncode != 0
    assert "BACKUP_KEY is not a backup key" in result.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.sqlite_pass
def test_a_generated_key_is_printed_alone_with_its_id_and_advice_beside_it(
    sqlite_clinic: Clinic,
) -> None:
    result = manage(sqlite_clinic.env(), "backup", "--generate-key")
    key = ok(result).strip()
    assert crypto.key_id(crypto.parse_key(key)) in result.stderr
    assert "away from this server" in result.stderr


@pytest.mark.sqlite_pass
def test_a_restore_without_a_key_is_refused_and_writes_nothing(sqlite_clinic: Clinic) -> None:
    message, target, media = restore_into_new(sqlite_clinic, sqlite_clinic.backup)
    assert "BACKUP_KEY is not set" in message
    assert nothing_written(target, media)


@pytest.mark.sqlite_pass
def test_a_restore_with_another_key_is_refused_naming_both_keys_and_writes_nothing(
    sqlite_clinic: Clinic,
) -> None:
    message, target, media = restore_into_new(
        sqlite_clinic, sqlite_clinic.backup, BACKUP_KEY=OTHER_KEY
    )
    assert "made with another key" in message
    assert crypto.key_id(crypto.parse_key(KEY)) in message
    assert crypto.key_id(crypto.parse_key(OTHER_KEY)) in message
    assert nothing_written(target, media)


@pytest.mark.sqlite_pass
@pytest.mark.parametrize("where", [0.001, 0.5, 0.999])
def test_a_flipped_byte_anywhere_is_refused_before_anything_is_written(
    sqlite_clinic: Clinic, tmp_path: Path, where: float
) -> None:
    damaged = tmp_path / "damaged.imsbackup"
    data = bytearray(sqlite_clinic.backup.read_bytes())
    data[max(crypto.HEADER_BYTES, int(len(data) * where))] ^= 0x20
    damaged.write_bytes(bytes(data))
    message, target, media = restore_into_new(sqlite_clinic, damaged, BACKUP_KEY=KEY)
    assert "damaged" in message
    assert nothing_written(target, media)
    checked = manage(sqlite_clinic.env(BACKUP_KEY=KEY), "backup", "--check", str(damaged))
    assert checked.returncode != 0
    assert "damaged" in checked.stderr


@pytest.mark.sqlite_pass
def test_a_truncated_backup_is_refused_before_anything_is_written(
    sqlite_clinic: Clinic, tmp_path: Path
) -> None:
    cut = tmp_path / "cut.imsbackup"
    data = sqlite_clinic.backup.read_bytes()
    cut.write_bytes(data[: len(data) - 1000])
    message, target, media = restore_into_new(sqlite_clinic, cut, BACKUP_KEY=KEY)
    assert "incomplete" in message
    assert nothing_written(target, media)


@pytest.mark.sqlite_pass
def test_a_restore_into_a_non_empty_media_folder_is_refused_and_writes_nothing(
    sqlite_clinic: Clinic, tmp_path: Path
) -> None:
    media = tmp_path / "media"
    (media / "old").mkdir(parents=True)
    (media / "old" / "letter.pdf").write_bytes(b"someone else's file")
    target = Database("sqlite", str(tmp_path / "new.sqlite3"))
    result = manage(
        environment(DATABASE_URL=target.url, MEDIA_ROOT=str(media), BACKUP_KEY=KEY),
        "restore",
        str(sqlite_clinic.backup),
    )
    assert result.returncode != 0
    assert "MEDIA_ROOT" in result.stderr
    assert "is not empty" in result.stderr
    assert not Path(target.name).exists()
    assert files_under(media) == {"old/letter.pdf": b"someone else's file"}


def test_a_restore_into_a_database_that_has_tables_is_refused_and_leaves_it_as_it_was(
    clinic: Clinic, tmp_path: Path
) -> None:
    vendor = clinic.vendor
    with contextlib.ExitStack() as stack:
        if vendor == "sqlite":
            target = Database("sqlite", str(tmp_path / "in-use.sqlite3"))
        else:
            target = Database("postgresql", stack.enter_context(new_pg_database("inuse")))
        with target._cursor() as cursor:
            cursor.execute("CREATE TABLE notes (id integer PRIMARY KEY, body text)")
            cursor.execute("INSERT INTO notes VALUES (1, 'kept as it was')")
            if vendor == "sqlite":
                cursor.connection.commit()
        before = target.fingerprint()
        media = tmp_path / "media"
        result = manage(
            environment(DATABASE_URL=target.url, MEDIA_ROOT=str(media), BACKUP_KEY=KEY),
            "restore",
            str(clinic.backup),
        )
        assert result.returncode != 0
        assert "is not empty: it already holds 1 tables" in result.stderr
        assert "Nothing was written" in result.stderr
        assert target.fingerprint() == before
        assert not media.exists()


@pytest.mark.postgres
@pytest.mark.parametrize("clinic", ["postgresql"], indirect=True)
def test_a_backup_is_restored_only_into_the_same_kind_of_database(
    clinic: Clinic, tmp_path: Path
) -> None:
    target = Database("sqlite", str(tmp_path / "other-kind.sqlite3"))
    media = tmp_path / "media"
    result = manage(
        environment(DATABASE_URL=target.url, MEDIA_ROOT=str(media), BACKUP_KEY=KEY),
        "restore",
        str(clinic.backup),
    )
    assert result.returncode != 0
    assert "This is a backup of a PostgreSQL database; DATABASE_URL names a SQLite" in (
        result.stderr
    )
    assert nothing_written(target, media)


# --- the nightly job ----------------------------------------------------------------------


@pytest.mark.sqlite_pass
def test_the_nightly_job_writes_a_named_backup_checks_it_and_rotates_the_folder(
    sqlite_clinic: Clinic, tmp_path: Path
) -> None:
    folder = tmp_path / "nightly"
    folder.mkdir()
    old = [
        "imsclinic-20260101T101500Z.imsbackup",
        "imsclinic-20260102T101500Z.imsbackup",
        "imsclinic-20260103T101500Z.imsbackup",
    ]
    for name in old:
        (folder / name).write_bytes(b"an older backup")
    (folder / "README.txt").write_text("not a backup")
    env = sqlite_clinic.env(BACKUP_KEY=KEY)
    output = ok(manage(env, "backup", "--output-dir", str(folder), "--rotate", "2,0,0"))
    made = sorted(p.name for p in folder.iterdir() if p.name not in {*old, "README.txt"})
    assert len(made) == 1 and made[0].startswith("imsclinic-") and made[0].endswith(".imsbackup")
    assert "Checked: the new backup decrypts and matches its manifest." in output
    assert "kept 2 backups, removed 2" in output
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [made[0], "README.txt", "imsclinic-20260103T101500Z.imsbackup"]
    )


@pytest.mark.sqlite_pass
def test_a_backup_never_overwrites_another_file(sqlite_clinic: Clinic) -> None:
    before = sqlite_clinic.backup.read_bytes()
    result = manage(
        sqlite_clinic.env(BACKUP_KEY=KEY), "backup", "--output", str(sqlite_clinic.backup)
    )
    assert result.returncode != 0
    assert "already exists" in result.stderr
    assert sqlite_clinic.backup.read_bytes() == before


@pytest.mark.sqlite_pass
@pytest.mark.skipif(os.geteuid() != 0, reason="the restore script is run as root (sudo)")
def test_the_documented_restore_command_restores_with_the_servers_own_settings(
    sqlite_clinic: Clinic, tmp_path: Path
) -> None:
    app_env = tmp_path / "imsclinic.env"
    app_env.write_text(
        f"SECRET_KEY={secrets.token_urlsafe(40)}\n"
        f"DATABASE_URL={sqlite_clinic.source.url}\n"
        f"MEDIA_ROOT={sqlite_clinic.media}\n"
    )
    key_env = tmp_path / "backup.env"
    key_env.write_text(f"BACKUP_KEY={KEY}\n")
    key_env.chmod(0o600)
    target = tmp_path / "drill.sqlite3"
    media = tmp_path / "drill-media"
    env = environment(
        APP_DIR=str(ROOT), APP_USER="root", ENV_FILE=str(app_env), KEY_FILE=str(key_env)
    )
    env.pop("DEBUG")  # the server's settings come from its environment file alone
    result = subprocess.run(
        [
            str(ROOT / "deploy" / "backup" / "imsclinic-restore"),
            "--database",
            f"sqlite:///{target}",
            "--media",
            str(media),
            str(sqlite_clinic.backup),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert "audit chain intact" in ok(result)
    assert Database("sqlite", str(target)).fingerprint() == sqlite_clinic.fingerprint
    assert files_under(media) == MEDIA_FILES


# --- one instant ----------------------------------------------------------------------------


@pytest.mark.postgres
def test_rows_written_while_postgresql_is_dumped_are_in_neither_the_dump_nor_the_manifest(
    transactional_db: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.core.cache import cache

    from imsclinic.core.backup import database

    cache.set("before", "in the backup")
    read_facts = database.read_facts

    def facts_then_a_write_elsewhere() -> database.Facts:
        facts = read_facts()
        # Another connection commits a row after the facts are read and before pg_dump starts.
        with pg_connect(connection.settings_dict["NAME"]) as other:
            other.execute(
                "INSERT INTO imsclinic_cache (cache_key, value, expires)"
                " VALUES ('during', 'not in the backup', now() + interval '1 hour')"
            )
        return facts

    monkeypatch.setattr(database, "read_facts", facts_then_a_write_elsewhere)
    dump, facts = database.dump(tmp_path)
    data = subprocess.run(
        ["pg_restore", "--data-only", "--table=imsclinic_cache", "--file=-", str(dump)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    copy = data.split("COPY public.imsclinic_cache", 1)[1].split("\n\\.\n", 1)[0]
    dumped_rows = copy.count("\n")  # the COPY line's end, then one line per row
    assert facts.row_counts["imsclinic_cache"] == 1
    assert dumped_rows == 1
    ((live,),) = Database("postgresql", connection.settings_dict["NAME"]).query(
        "SELECT COUNT(*) FROM imsclinic_cache"
    )
    assert live == 2
