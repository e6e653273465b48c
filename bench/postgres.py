"""The throwaway PostgreSQL databases the PostgreSQL-only benches build and drop."""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import urlsplit, urlunsplit

DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432/imsclinic"


def database_url(name: str, *, override: str) -> str:
    """Return the URL of database `name` on the test server, unless env `override` names one.

    The server is the one `scripts/test` uses: TEST_POSTGRES_URL, else a PostgreSQL
    DATABASE_URL, else postgres://postgres@127.0.0.1:5432.
    """
    explicit = os.environ.get(override)
    if explicit:
        return explicit
    server = os.environ.get("TEST_POSTGRES_URL") or ""
    if not server:
        current = os.environ.get("DATABASE_URL", "")
        server = current if current.startswith("postgres") else DEFAULT_SERVER
    return urlunsplit(urlsplit(server)._replace(path=f"/{name}"))


def admin_connect(url: str) -> Any:
    """Connect to the server's maintenance database, or raise."""
    import dj_database_url
    import psycopg

    cfg = dj_database_url.parse(url)
    return psycopg.connect(
        host=cfg.get("HOST") or None,
        port=cfg.get("PORT") or None,
        user=cfg.get("USER") or None,
        password=cfg.get("PASSWORD") or None,
        dbname="postgres",
        connect_timeout=3,
        autocommit=True,
    )


def recreate_database(url: str, *, create: bool) -> None:
    """Drop the database of `url` if it exists and, with `create`, make it again empty."""
    from psycopg import sql

    name = urlsplit(url).path.lstrip("/")
    with admin_connect(url) as admin:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        if create:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
