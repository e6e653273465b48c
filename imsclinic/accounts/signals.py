"""Signal receivers for accounts: start the session clocks at sign-in."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest

from imsclinic.accounts.middleware import mark_session_start


@receiver(user_logged_in, dispatch_uid="imsclinic_mark_session_start")
def start_session_clocks(
    sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any
) -> None:
    """Count a staff session's idle and absolute lifetime from this sign-in."""
    if request is not None and hasattr(request, "session"):
        mark_session_start(request)
