"""Give the runtime database role its privileges: run as the owner role after every migrate."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS, connections

from imsclinic.core.database_roles import RoleRefused, grant_runtime_role


class Command(BaseCommand):
    help = (
        "Grant ROLE, the PostgreSQL role the web server and the task worker connect as, "
        "what it needs and no more: read and write on ordinary tables, read and add only on "
        "the audit log, read only on django_migrations, and its sequences; never TRUNCATE, "
        "TRIGGER or REFERENCES. Run it connected as the owner role (the one that ran "
        "migrate) after every migrate; running it again changes nothing. It refuses a role "
        "that is a superuser, owns anything, or belongs to the owner role."
    )
    # The grants concern the database, not the code; a release runs `check --deploy` itself.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("role", help="the runtime role, as in the app's DATABASE_URL")
        parser.add_argument(
            "--database",
            default=DEFAULT_DB_ALIAS,
            help="the database alias to grant on (default: %(default)s)",
        )

    def handle(self, *args: Any, role: str, database: str, **options: Any) -> None:
        try:
            report = grant_runtime_role(connections[database], role)
        except RoleRefused as refusal:
            raise CommandError(str(refusal)) from refusal
        self.stdout.write(
            f"Granted {role}: {len(report.read_write)} tables read and write, "
            f"{len(report.append_only)} read and add only ({', '.join(report.append_only)}), "
            f"{len(report.read_only)} read only ({', '.join(report.read_only)}), "
            f"{len(report.sequences)} sequences. It owns nothing, so it cannot truncate, "
            "alter or drop a table, nor switch a trigger off."
        )
