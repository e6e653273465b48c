"""What scheduling tells the areas above it, which it does not import.

`reminder_composing` is sent while a visit's reminder email is put together, with
`appointment=`. A receiver returns a dict of extra template context for
`scheduling/email/notice.*` (outcomes returns `measures_url` when questionnaires are due
before the visit); a receiver with nothing to add returns an empty dict.
"""

from django.dispatch import Signal

reminder_composing = Signal()
