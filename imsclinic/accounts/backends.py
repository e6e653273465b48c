"""Signing in, without Django's permission tables: who may do what is `core.permissions`."""

from __future__ import annotations

from typing import Any

from allauth.account.auth_backends import AuthenticationBackend


class AccountBackend(AuthenticationBackend):
    """allauth's sign-in by email and password, granting no permission of its own.

    Every permission is a `rules` rule (`core.permissions`); the clinic never assigns
    Django's per-user or per-group permission rows. allauth's backend is a ModelBackend,
    which would read those empty tables (two queries) on each request that asks about a
    permission the rules deny; this one answers from nothing. An active superuser (made
    with `createsuperuser`) still has every permission, as `User.has_perm` says before any
    backend is asked.
    """

    def get_user_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        return set()

    def get_group_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        return set()
