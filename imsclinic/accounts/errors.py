"""Refusals of the accounts services: staff invitations and API tokens."""

from __future__ import annotations

from imsclinic.core.errors import Refused


class InvitationRefused(Refused):
    """A staff invitation that cannot be sent, or an account that cannot be made from one."""


class InvitationUnusable(InvitationRefused):
    """The invitation was accepted, revoked or expired before it could be used."""


class TokenRefused(Refused):
    """An API token that cannot be issued as asked."""
