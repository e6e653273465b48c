"""Personal API tokens: issue, revoke and check them; only their hashes are kept.

Issuing and revoking a token is written to the audit log (object type "api_token") so the
owner can see who could reach the API and since when. The raw token appears in neither the
audit row nor the Python log; the hint (its first characters) is enough to tell tokens apart.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging

from django.db import connection, transaction
from django.db.models import OneToOneRel, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from imsclinic.accounts.errors import TokenRefused
from imsclinic.accounts.middleware import user_has_mfa
from imsclinic.accounts.models import (
    TOKEN_NAME_MAX_LENGTH,
    ApiToken,
    User,
    hash_secret,
    new_secret,
)
from imsclinic.core.audit import audit_record
from imsclinic.core.models import Action, ObjectType
from imsclinic.core.sql import ModelColumns

logger = logging.getLogger(__name__)

HINT_LENGTH = 8
# Writing last_used_at on every request would turn each API read into a write; a minute's
# resolution is plenty to tell a token in use from a forgotten one.
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)
# Far longer than any token we issue; anything longer is refused before hashing.
MAX_TOKEN_LENGTH = 200


def api_tokens_for_user(user: User) -> QuerySet[ApiToken]:
    """Return the user's tokens, newest first, revoked ones included."""
    return ApiToken.objects.filter(user=user).order_by("-created_at", "-pk")


def api_token_issue(
    *, user: User, name: str, actor: User | None, request: HttpRequest | None = None
) -> tuple[ApiToken, str]:
    """Create a token for the user and return it with its raw value, which is never stored."""
    name = name.strip()
    if not name:
        raise TokenRefused(_("Give the token a name, such as what will use it."), field="name")
    if len(name) > TOKEN_NAME_MAX_LENGTH:
        raise TokenRefused(
            _("Keep the name to %(max)d characters or fewer.") % {"max": TOKEN_NAME_MAX_LENGTH},
            field="name",
        )
    if not user.is_active:
        raise TokenRefused(_("This account is deactivated, so it cannot hold an API token."))
    if user.is_clinic_staff and not user_has_mfa(user):
        # A token skips the second factor at every call, so it is only as safe as an account
        # that has one: staff get a token once their authenticator app is set up.
        raise TokenRefused(
            _(
                "Staff accounts need two-factor authentication before they can hold an API "
                "token. Set up an authenticator app (Account, Two-factor authentication), "
                "then issue the token."
            )
        )
    raw = ApiToken.PREFIX + new_secret()
    with transaction.atomic(durable=True):
        token = ApiToken.objects.create(
            user=user, name=name, token_hash=hash_secret(raw), hint=raw[:HINT_LENGTH]
        )
        audit_record(
            actor=actor,
            action=Action.CREATE,
            object_type=ObjectType.API_TOKEN,
            object_id=token.pk,
            request=request,
            detail={"holder": user.email, "name": name, "hint": token.hint},
        )
    logger.info("API token %s (%s…) issued to user %s", token.pk, token.hint, user.pk)
    return token, raw


def api_token_revoke(
    *, token: ApiToken, actor: User | None, request: HttpRequest | None = None
) -> bool:
    """Revoke the token at once; say whether it was still active (revoking twice is harmless)."""
    now = timezone.now()
    with transaction.atomic(durable=True):
        changed = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
            revoked_at=now
        )
        if not changed:
            token.refresh_from_db(fields=["revoked_at"])
            return False
        token.revoked_at = now
        audit_record(
            actor=actor,
            action=Action.UPDATE,
            object_type=ObjectType.API_TOKEN,
            object_id=token.pk,
            request=request,
            detail={"holder": token.user.email, "hint": token.hint, "revoked": True},
        )
    logger.info("API token %s (%s…) revoked", token.pk, token.hint)
    return True


def api_token_authenticate(raw: str) -> User | None:
    """Return the active user a live token belongs to, or None for anything else."""
    if (
        not raw.startswith(ApiToken.PREFIX)
        or len(raw) > MAX_TOKEN_LENGTH
        or not raw.isascii()  # our tokens are URL-safe ASCII; this also keeps hashing safe
    ):
        return None
    token = _live_token(hash_secret(raw))
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


_TOKEN = ModelColumns(ApiToken, "t")
_HOLDER = ModelColumns(User, "u")


@functools.cache
def _patient_columns() -> ModelColumns:
    # The patient record's model, reached through the relation: accounts does not import
    # the patients app.
    return ModelColumns(User._meta.get_field("patient").related_model, "q")  # type: ignore[arg-type]


def _live_token(token_hash: str) -> ApiToken | None:
    """Return the unrevoked token with this hash, its holder and their patient record loaded.

    One read, as `select_related("user", "user__patient")` would make (the patient record is
    None for staff; booking needs it), written out in SQL: every API call makes it, and the
    ORM's joins cost more to build than to run (`core.sql.ModelColumns`).
    """
    patients = _patient_columns()
    to_patient = User._meta.get_field("patient")
    assert isinstance(to_patient, OneToOneRel)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {_TOKEN.select()}, {_HOLDER.select()}, {patients.select()}"  # noqa: S608
            f" FROM {_TOKEN.table()}"
            f" INNER JOIN {_HOLDER.table()} ON {_HOLDER.column('id')} = {_TOKEN.column('user')}"
            f" LEFT OUTER JOIN {patients.table()}"
            f" ON {patients.column('user')} = {_HOLDER.column('id')}"
            f" WHERE {_TOKEN.column('token_hash')} = %s AND {_TOKEN.column('revoked_at')} IS NULL"
            " LIMIT 1",
            [token_hash],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    token: ApiToken = _TOKEN.read(row)
    holder: User = _HOLDER.read(row, _TOKEN.width)
    patient = patients.read(row, _TOKEN.width + _HOLDER.width)
    ApiToken._meta.get_field("user").set_cached_value(token, holder)  # type: ignore[union-attr]
    to_patient.set_cached_value(holder, patient)
    if patient is not None:
        to_patient.field.set_cached_value(patient, holder)
    return token
