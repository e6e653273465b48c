"""How outcomes reacts to charting: a signed needling note records its pain scores."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from imsclinic.outcomes import services

if TYPE_CHECKING:
    from imsclinic.accounts.models import User
    from imsclinic.charting.models import NeedlingSession


def results_from_signed_note(
    sender: Any, *, session: NeedlingSession, actor: User, **kwargs: Any
) -> None:
    """Store the signed note's pain before and after as NPRS results, in its transaction."""
    services.results_from_session(session=session, actor=actor)
