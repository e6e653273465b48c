"""Send a task's emails one by one, so one refused address does not keep the others untold."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from typing import Any

from django.core.mail import EmailMessage
from django.tasks import Task
from django.utils import timezone

logger = logging.getLogger(__name__)

# A task whose every email failed (the mail server down) is queued again this long after,
# for up to RETRY_FOR (a check-in, for as long as the patient can still answer it).
RETRY_AFTER = dt.timedelta(minutes=15)
RETRY_FOR = dt.timedelta(hours=24)


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


def retry_unsent(task: Task[..., Any], task_id: int, *, since: dt.datetime, about: str) -> None:
    """Queue `task(task_id)` again when none of its emails went, for `RETRY_FOR` after `since`.

    Called inside the task's own transaction, so the retry row commits with it.
    """
    run_after = retry_at(timezone.now(), since + RETRY_FOR)
    if run_after is None:
        logger.error("%s: no email could go; no more retries", about)
        return
    task.using(run_after=run_after).enqueue(task_id)
    logger.error("%s: no email went; retry at %s", about, run_after)
