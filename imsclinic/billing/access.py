"""Who may change money: the services ask here whatever page, API or task calls them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

if TYPE_CHECKING:
    from imsclinic.accounts.models import User
    from imsclinic.patients.models import Patient


def require_actor(actor: User | None, perm: str, patient: Patient | None = None) -> None:
    """Refuse a person the rules (`core.permissions`) do not let do this; None is the system.

    The pages and the API refuse first and audit it; this stands behind them, so that no
    caller (a new page, a console) lets a practitioner or a patient move money.
    """
    if actor is None or actor.has_perm(perm, patient):
        return
    raise PermissionDenied(_("You may not change the clinic's billing this way."))
