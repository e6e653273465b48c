"""What charting tells the apps that react to its notes; charting imports none of them.

`note_signed` is sent by `services.session_sign` inside its transaction, once the needling
note is stored as signed, with `session` (the locked, signed note), `actor`, `request` and
`now`. A receiver writes in that same transaction: if it raises, the signing is undone.
Receivers run in the order their apps are installed: outcomes (the note's pain scores as
NPRS results), then followup (the after-visit check-in). Only needling notes send it: a
physiotherapy note has no pain scores to record and no needling to check in about.

`measures_due_asked` is sent with `appointment=` while a physiotherapy note of that visit
is shown or signed. A receiver returns a list of the names of the outcome measures due at
the visit (outcomes answers from the patient's measure plan); one with nothing to say
returns an empty list. `selectors.measures_due_at` collects the answers.
"""

from __future__ import annotations

from django.dispatch import Signal

note_signed = Signal()
measures_due_asked = Signal()
