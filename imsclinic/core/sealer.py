"""The audit sealer that runs inside the task worker, beside its task loop."""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time

from django.conf import settings
from django.db import connection

from imsclinic.core.audit import seal_pending
from imsclinic.core.checkpoints import checkpoint_due, checkpoint_write

logger = logging.getLogger(__name__)

# Reading the checkpoint file every second would be wasted work for a daily event.
CHECKPOINT_LOOK_EVERY_S = 60.0


class AuditSealer(threading.Thread):
    """Seal new audit rows every AUDIT_SEAL_INTERVAL_SECONDS; write the daily checkpoint.

    A daemon thread: when the worker stops, a batch being sealed is rolled back with the
    connection and sealed again by the next sealer. Errors (the database away for a moment,
    the checkpoint file unwritable) are logged and tried again on the next pass.
    """

    def __init__(self) -> None:
        super().__init__(name="audit-sealer", daemon=True)
        self.stopping = threading.Event()

    def run(self) -> None:
        interval = settings.AUDIT_SEAL_INTERVAL_SECONDS
        every = dt.timedelta(hours=settings.AUDIT_CHECKPOINT_EVERY_HOURS)
        look_for_checkpoint_at = 0.0
        while not self.stopping.is_set():
            try:
                sealed = seal_pending()
                if sealed:
                    logger.debug("Sealed %s audit rows", sealed)
                if time.monotonic() >= look_for_checkpoint_at:
                    look_for_checkpoint_at = time.monotonic() + CHECKPOINT_LOOK_EVERY_S
                    if checkpoint_due(every=every):
                        checkpoint_write(reason="daily")
            except Exception:
                logger.exception("The audit sealer failed; it tries again in %s s", interval)
                connection.close()  # a broken connection is opened afresh next time
            self.stopping.wait(interval)
        connection.close()

    def stop(self) -> None:
        self.stopping.set()
