"""What core tells the areas above it, which it does not import.

`worker_starting` is sent when the task worker (`manage.py db_worker`, not a --batch run)
starts working, with no arguments; a receiver queues its daily work if none is waiting
(the clinic's licence expiry reminders).
"""

from django.dispatch import Signal

worker_starting = Signal()
