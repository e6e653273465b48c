"""The runtime database role: the app works as it, and it cannot rewrite what must not change.

Production connects as a role that owns no table (docs/DEPLOY.md); `grant_runtime_role`
gives it its privileges. Roles belong to the whole PostgreSQL cluster, so each test makes
its own, with a name no other test run shares, and drops it afterwards.
"""

from __future__ import annotations

import datetime as dt
import io
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from imsclinic.accounts.models import User
from imsclinic.charting.models import NeedlingSession
from imsclinic.clinic.models import Location, Service
from imsclinic.core.audit import audit_record, verify_chain
from imsclinic.core.database_roles import (
    APPEND_ONLY,
    READ_ONLY,
    READ_WRITE,
    is_append_only,
    table_privileges,
)
from imsclinic.core.models import Action, AuditEvent
from imsclinic.patients.models import Patient
from imsclinic.scheduling.models import Appointment, AppointmentStatus
from imsclinic.scheduling.services.booking import appointment_book
from tests.factories import VANCOUVER
from tests.factories.charting import (
    ims_visit,
    needle_lot,
    row,
    signed_assessment,
    signed_session,
)
from tests.factories.safety import make_ready_for_needling
from tests.factories.scheduling import weekday_shifts

MONDAY = dt.date(2031, 3, 3)
BOOKED_AT = dt.datetime(2031, 2, 24, 12, 0, tzinfo=dt.UTC)
TABLE_PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")


@dataclass(frozen=True)
class Role:
    name: str
    password: str


def superuser_sql(statement: str) -> None:
    """Run one statement as the test database's own (superuser) connection."""
    with connection.cursor() as cursor:
        cursor.execute(statement)


def new_role(kind: str, *attributes: str) -> Role:
    """Create a login role whose name is this run's alone (roles are cluster-wide)."""
    base = connection.settings_dict["NAME"][:30]
    role = Role(f"{base}_{kind}_{secrets.token_hex(4)}", secrets.token_urlsafe(18))
    # The same attributes deploy/postgres-setup.sql gives the runtime role.
    flags = " ".join(attributes) or "NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS"
    superuser_sql(f"CREATE ROLE \"{role.name}\" LOGIN PASSWORD '{role.password}' {flags}")
    return role


def drop_role(role: Role) -> None:
    superuser_sql(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
        f" WHERE usename = '{role.name}' AND pid <> pg_backend_pid()"
    )
    # DROP OWNED also takes back every privilege granted to the role, here and on the database.
    superuser_sql(f'DROP OWNED BY "{role.name}"')
    superuser_sql(f'DROP ROLE "{role.name}"')


@pytest.fixture
def runtime(transactional_db: None) -> Iterator[Role]:
    """A fresh runtime role, granted its privileges as a release does."""
    role = new_role("rt")
    try:
        call_command("grant_runtime_role", role.name, stdout=io.StringIO())
        yield role
    finally:
        drop_role(role)


@contextmanager
def signed_in_as(role: Role) -> Iterator[object]:
    """Open a plain psycopg connection to the test database as the role (autocommit)."""
    import psycopg

    settings = connection.settings_dict
    with psycopg.connect(
        host=settings["HOST"] or None,
        port=settings["PORT"] or None,
        dbname=settings["NAME"],
        user=role.name,
        password=role.password,
        autocommit=True,
    ) as conn:
        yield conn


@contextmanager
def app_connected_as(role: Role) -> Iterator[None]:
    """Make the app's own database connection use the role, as production's DATABASE_URL does."""
    saved = {key: connection.settings_dict[key] for key in ("USER", "PASSWORD")}
    connection.close()
    connection.settings_dict.update(USER=role.name, PASSWORD=role.password)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_user")
            assert cursor.fetchone()[0] == role.name
        yield
    finally:
        connection.close()
        connection.settings_dict.update(saved)


def refused(conn, statement: str, params: list[object] | None = None) -> str:
    """Run a statement that must fail for lack of privilege; return PostgreSQL's message."""
    import psycopg

    with pytest.raises(psycopg.errors.InsufficientPrivilege) as refusal:
        conn.execute(statement, params)
    return str(refusal.value)


def privileges(role: Role, table: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT p FROM unnest(%s::text[]) AS p WHERE has_table_privilege(%s, %s, p)",
            [list(TABLE_PRIVILEGES), role.name, table],
        )
        return {name for (name,) in cursor.fetchall()}


def grants_of(role: Role) -> list[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, privilege_type FROM information_schema.role_table_grants"
            " WHERE grantee = %s ORDER BY 1, 2",
            [role.name],
        )
        return list(cursor.fetchall())


@pytest.fixture
def ready_patient(patient: Patient, physio: User) -> Patient:
    make_ready_for_needling(patient, by=physio)
    signed_assessment(patient, physio)
    return patient


@pytest.fixture
def signed_note(ready_patient: Patient, physio: User, ims_service: Service) -> NeedlingSession:
    """A needling note signed through the services (as the test database's own role)."""
    lot = needle_lot("LOT-ROLE-1")
    return signed_session(
        ims_visit(ready_patient, physio, ims_service), physio, [row("deltoid", lot)]
    )


def an_audit_row(actor: User) -> AuditEvent:
    return audit_record(actor=actor, action=Action.VIEW, object_type="patient_list")


# The rules themselves, on any database.


def test_the_audit_log_and_any_table_named_core_audit_are_read_and_add_only() -> None:
    assert table_privileges("core_auditevent") == APPEND_ONLY == ("SELECT", "INSERT")
    assert is_append_only("core_auditseal")
    assert is_append_only("core_auditcheckpoint")
    assert not is_append_only("core_notaudit")
    assert table_privileges("charting_needlingsession") == READ_WRITE
    assert table_privileges("django_migrations") == READ_ONLY


# What the runtime role may and may not do, on PostgreSQL.


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_it_grants_the_audit_log_only_select_and_insert_and_no_table_truncate_trigger_or_references(
    runtime: Role,
) -> None:
    assert privileges(runtime, "core_auditevent") == {"SELECT", "INSERT"}
    assert privileges(runtime, "charting_needlingsession") == {
        "SELECT",
        "INSERT",
        "UPDATE",
        "DELETE",
    }
    assert privileges(runtime, "django_migrations") == {"SELECT"}
    granted = {privilege for _, privilege in grants_of(runtime)}
    assert granted == {"SELECT", "INSERT", "UPDATE", "DELETE"}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = 'public' AND c.relkind = 'r'"
            " AND pg_has_role(%s, c.relowner, 'MEMBER')",
            [runtime.name],
        )
        assert cursor.fetchone()[0] == 0, "the runtime role owns no table"
        cursor.execute(
            "SELECT rolsuper, has_parameter_privilege(rolname, 'session_replication_role', 'SET')"
            " FROM pg_roles WHERE rolname = %s",
            [runtime.name],
        )
        assert cursor.fetchone() == (False, False)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_it_refuses_the_runtime_role_truncating_changing_or_deleting_audit_rows(
    runtime: Role, owner: User
) -> None:
    event = an_audit_row(owner)
    with signed_in_as(runtime) as conn:
        assert "permission denied" in refused(conn, "TRUNCATE core_auditevent")
        assert "permission denied" in refused(conn, "TRUNCATE core_auditevent CASCADE")
        assert "permission denied" in refused(
            conn,
            "UPDATE core_auditevent SET actor_email = 'someone@else' WHERE id = %s",
            [event.pk],
        )
        assert "permission denied" in refused(
            conn, "DELETE FROM core_auditevent WHERE id = %s", [event.pk]
        )
        assert conn.execute("SELECT count(*) FROM core_auditevent").fetchone()[0] == 1
    event.refresh_from_db()
    assert event.actor_email == owner.email
    assert all(not hasattr(item, "reason") for item in verify_chain())


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_it_refuses_the_runtime_role_truncating_signed_notes_even_with_cascade(
    runtime: Role, signed_note: NeedlingSession
) -> None:
    with signed_in_as(runtime) as conn:
        assert "charting_needlingsession" in refused(conn, "TRUNCATE charting_needlingsession")
        assert "permission denied" in refused(conn, "TRUNCATE charting_needlingsession CASCADE")
    assert NeedlingSession.objects.filter(pk=signed_note.pk, status="signed").exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_it_refuses_the_runtime_role_changing_or_deleting_a_signed_needling_note(
    runtime: Role, signed_note: NeedlingSession
) -> None:
    import psycopg

    with signed_in_as(runtime) as conn:
        # The role may write needling notes (drafts change); the trigger keeps signed ones.
        for statement in (
            "UPDATE charting_needlingsession SET nprs_after = 0 WHERE id = %s",
            "UPDATE charting_needlingsession SET status = 'draft' WHERE id = %s",
            "DELETE FROM charting_needlingsession WHERE id = %s",
        ):
            with pytest.raises(psycopg.errors.IntegrityConstraintViolation) as refusal:
                conn.execute(statement, [signed_note.pk])
            assert "charting_signed_note_locked" in str(refusal.value)
        with pytest.raises(psycopg.errors.IntegrityConstraintViolation):
            conn.execute("DELETE FROM charting_needlingrow WHERE session_id = %s", [signed_note.pk])
    signed_note.refresh_from_db()
    assert (signed_note.status, signed_note.nprs_after, signed_note.rows.count()) == (
        "signed",
        3,
        1,
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_it_refuses_the_runtime_role_switching_triggers_off_or_altering_dropping_or_creating_tables(
    runtime: Role,
) -> None:
    with signed_in_as(runtime) as conn:
        for table in ("core_auditevent", "charting_needlingsession"):
            assert "must be owner" in refused(conn, f"ALTER TABLE {table} DISABLE TRIGGER ALL")
            assert "must be owner" in refused(conn, f"ALTER TABLE {table} ADD COLUMN note text")
            assert "must be owner" in refused(conn, f"DROP TABLE {table}")
        assert "session_replication_role" in refused(conn, "SET session_replication_role = replica")
        assert "permission denied" in refused(conn, "CREATE TABLE core_audit_shadow (id int)")
        assert "permission denied" in refused(
            conn, "INSERT INTO django_migrations (app, name, applied) VALUES ('x', 'y', now())"
        )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_app_books_a_visit_and_writes_its_audit_rows_as_the_runtime_role(
    runtime: Role,
    other_patient: Patient,
    front_desk: User,
    physio: User,
    location: Location,
    assessment: Service,
) -> None:
    weekday_shifts(location, [physio], dt.date(2030, 1, 1))
    audit_rows_before = AuditEvent.objects.count()
    start = dt.datetime.combine(MONDAY, dt.time(9), tzinfo=VANCOUVER)
    with app_connected_as(runtime):
        visit = appointment_book(
            patient=other_patient,
            practitioner=physio.practitioner,
            service=assessment,
            location=location,
            start=start,
            actor=front_desk,
            now=BOOKED_AT,
        )
        an_audit_row(front_desk)
        assert all(not hasattr(item, "reason") for item in verify_chain())
    booked = Appointment.objects.get(pk=visit.pk)
    assert (booked.status, booked.start) == (AppointmentStatus.BOOKED, start)
    assert AuditEvent.objects.count() >= audit_rows_before + 2
    assert AuditEvent.objects.filter(object_type="appointment", object_id=str(visit.pk)).exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_app_signs_a_needling_note_as_the_runtime_role(
    runtime: Role, ready_patient: Patient, physio: User, ims_service: Service
) -> None:
    lot = needle_lot("LOT-ROLE-2")
    visit = ims_visit(ready_patient, physio, ims_service)
    with app_connected_as(runtime):
        note = signed_session(visit, physio, [row("deltoid", lot)])
    assert NeedlingSession.objects.get(pk=note.pk).status == "signed"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_new_table_whose_name_starts_with_core_audit_gets_only_select_and_insert(
    runtime: Role,
) -> None:
    table = f"core_auditprobe_{secrets.token_hex(3)}"
    superuser_sql(f"CREATE TABLE {table} (id bigint GENERATED BY DEFAULT AS IDENTITY, note text)")
    try:
        call_command("grant_runtime_role", runtime.name, stdout=io.StringIO())
        assert privileges(runtime, table) == {"SELECT", "INSERT"}
        with signed_in_as(runtime) as conn:
            conn.execute(f"INSERT INTO {table} (note) VALUES ('sealed')")
            assert "permission denied" in refused(conn, f"UPDATE {table} SET note = 'changed'")
            assert "permission denied" in refused(conn, f"DELETE FROM {table}")
    finally:
        superuser_sql(f"DROP TABLE {table}")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_granting_again_changes_nothing_and_takes_back_what_an_audit_table_must_not_have(
    runtime: Role,
) -> None:
    before = grants_of(runtime)
    superuser_sql(f'GRANT UPDATE, DELETE, TRUNCATE ON core_auditevent TO "{runtime.name}"')
    assert "TRUNCATE" in privileges(runtime, "core_auditevent")
    call_command("grant_runtime_role", runtime.name, stdout=io.StringIO())
    assert grants_of(runtime) == before
    assert privileges(runtime, "core_auditevent") == {"SELECT", "INSERT"}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_it_refuses_a_superuser_a_role_that_owns_a_table_or_the_role_running_it() -> None:
    superuser = new_role("su", "SUPERUSER")
    owner_of_one = new_role("own")
    table = f"probe_owned_{secrets.token_hex(3)}"
    try:
        with pytest.raises(CommandError, match="SUPERUSER"):
            call_command("grant_runtime_role", superuser.name)
        superuser_sql(f"CREATE TABLE {table} (id int)")
        superuser_sql(f'ALTER TABLE {table} OWNER TO "{owner_of_one.name}"')
        with pytest.raises(CommandError, match=f"owns .*table {table}"):
            call_command("grant_runtime_role", owner_of_one.name)
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_user")
            me = cursor.fetchone()[0]
        with pytest.raises(CommandError, match="running this command"):
            call_command("grant_runtime_role", me)
    finally:
        superuser_sql(f"DROP TABLE IF EXISTS {table}")
        drop_role(superuser)
        drop_role(owner_of_one)
