"""A filter on a long list of ids, sent as one value rather than one placeholder per id."""

from __future__ import annotations

import json
from collections.abc import Collection

from django.db import connection
from django.db.models import Q
from django.db.models.expressions import RawSQL


def among_ids(field: str, ids: Collection[int]) -> Q:
    """Return `Q(<field>__in=ids)` with the ids as one array (PostgreSQL) or JSON list (SQLite).

    Django writes `IN (%s, %s, …)` with each id prepared one by one, and psycopg then splits
    a statement of hundreds of placeholders; a calendar naming 400 patients paid about 2 ms
    a query for that. The database reads the same ids from one parameter instead.
    """
    values = [int(value) for value in ids]
    if connection.vendor == "postgresql":
        return Q(**{f"{field}__in": RawSQL("SELECT unnest(%s::bigint[])", [values])})
    return Q(**{f"{field}__in": RawSQL("SELECT value FROM json_each(%s)", [json.dumps(values)])})
