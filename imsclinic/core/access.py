"""Letting people in and turning them away, the same way in every app.

`core.permissions` decides who may do what. This module is how pages, the API and services
act on that decision:

- `record_refusal`: write a refused attempt to the audit log, as a denied look at (or
  change of) exactly what was asked for; `refuse` writes it and returns the error to
  raise. Someone with no right to a thing gets the same 404 as for a thing that does not
  exist.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest

from imsclinic.core.audit import audit_record
from imsclinic.core.models import Action, Outcome

if TYPE_CHECKING:
    from imsclinic.accounts.models import User
    from imsclinic.patients.models import Patient

READS = ("GET", "HEAD", "OPTIONS")


def asked_action(request: HttpRequest | None) -> Action:
    """Return what a request asked to do: a look for reads, a change for anything else."""
    if request is None or request.method in READS:
        return Action.VIEW
    return Action.UPDATE


def record_refusal(
    request: HttpRequest | None,
    *,
    object_type: str,
    object_id: object = "",
    patient: Patient | None = None,
    patient_id: int | None = None,
    action: Action | str | None = None,
    actor: User | AnonymousUser | None = None,
    reason: str = "",
    detail: dict[str, Any] | None = None,
) -> None:
    """Write a refused attempt to the audit log as a denied look at (or change of) a thing.

    The row names what was asked for (`object_type`, `object_id`) and whose record it
    belongs to when that is known. `action` defaults to a view for reads and an update for
    anything else; `actor` to the request's user. `reason` and `detail` say more, never
    health information.
    """
    if actor is None and request is not None:
        actor = request.user
    audit_record(
        actor=actor,
        action=action or asked_action(request),
        object_type=object_type,
        object_id=object_id,
        patient=patient,
        patient_id=patient_id,
        outcome=Outcome.DENIED,
        request=request,
        detail={**(detail or {}), **({"reason": reason} if reason else {})} or None,
    )


def refuse(
    request: HttpRequest | None,
    *,
    object_type: str,
    object_id: object = "",
    patient: Patient | None = None,
    patient_id: int | None = None,
    action: Action | str | None = None,
    actor: User | AnonymousUser | None = None,
    reason: str = "",
    error: Exception | None = None,
) -> Exception:
    """Record a refused attempt (`record_refusal`) and return the error to raise.

    The error defaults to a 404 that says nothing about whether the thing exists; pass
    `PermissionDenied(...)`, or a service's own error, for a refusal the user may know of.
    """
    record_refusal(
        request,
        object_type=object_type,
        object_id=object_id,
        patient=patient,
        patient_id=patient_id,
        action=action,
        actor=actor,
        reason=reason,
    )
    return error if error is not None else Http404("Not found.")


def require_perm(
    request: HttpRequest,
    perm: str,
    *,
    object_type: str,
    obj: Any = None,
    patient: Patient | None = None,
) -> None:
    """Refuse (403, audited as a denied look at `object_type`) unless the user has `perm`."""
    if not request.user.has_perm(perm, obj):
        raise refuse(request, object_type=object_type, patient=patient, error=PermissionDenied())
