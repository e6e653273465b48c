"""What the clinic does when an area below it says something happened."""

from __future__ import annotations

from typing import Any


def licence_reminders_on_worker_start(**kwargs: Any) -> None:
    """Queue the daily licence expiry reminders when the worker starts, if none is waiting."""
    from imsclinic.clinic.tasks import queue_licence_reminders

    queue_licence_reminders()
