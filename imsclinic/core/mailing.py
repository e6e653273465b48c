"""Send a task's emails one by one, so one refused address does not keep the others untold."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence

from django.core.mail import EmailMessage

logger = logging.getLogger(__name__)

# A task whose every email failed (the mail server down) is queued again this long after.
RETRY_AFTER = dt.timedelta(minutes=15)


def send_each(messages: Sequence[EmailMessage], *, about: str) -> int:
    """Send each email on its own and return how many went.

    A failure is logged as an error with its address and `about` (e.g. "follow-up alert 3"),
    and the rest are still sent. The caller decides what no email at all going means:
    usually, try again later (`retry_at`) without marking anything as told.
    """
    sent = 0
    for message in messages:
        try:
            message.send()
        except Exception:
            logger.exception("%s: the email to %s failed", about, ", ".join(message.to))
        else:
            sent += 1
    return sent


def retry_at(now: dt.datetime, give_up_at: dt.datetime) -> dt.datetime | None:
    """Return when to try a task again after its emails all failed, or None once too late."""
    run_after = now + RETRY_AFTER
    return run_after if run_after <= give_up_at else None
