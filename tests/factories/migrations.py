"""For migration tests: take the schema back to a point, and forward again to every app's latest.

Migrating one app back also unapplies every migration of other apps that depends on it (billing
hangs on clinic, for one), so going forward must aim at every app's leaf, never only the app under
test; otherwise the tables of the apps in between stay missing for the tests that follow.
"""

from __future__ import annotations

from django.db import connection
from django.db.migrations.executor import MigrationExecutor


def migrate_to(targets: list[tuple[str, str]]) -> MigrationExecutor:
    """Migrate the test database to these migrations (forwards or backwards)."""
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor


def migrate_to_latest() -> None:
    """Apply every migration of every app, and check that nothing is left unapplied."""
    executor = MigrationExecutor(connection)
    leaves = executor.loader.graph.leaf_nodes()
    executor.migrate(leaves)
    pending = MigrationExecutor(connection).migration_plan(leaves)
    assert not pending, f"migrations left unapplied: {pending}"
