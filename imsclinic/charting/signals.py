"""What charting tells the apps that react to its notes; charting imports none of them.

`note_signed` is sent by `services.session_sign` inside its transaction, once the needling
note is stored as signed, with `session` (the locked, signed note), `actor`, `request` and
`now`. A receiver writes in that same transaction: if it raises, the signing is undone.
Receivers run in the order their apps are installed: outcomes (the note's pain scores as
NPRS results), then followup (the after-visit check-in).
"""

from __future__ import annotations

from django.dispatch import Signal

note_signed = Signal()
