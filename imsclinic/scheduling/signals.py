"""What scheduling tells the areas above it, which it does not import.

`reminder_composing` is sent while a visit's reminder email is put together, with
`appointment=`. A receiver returns a dict of extra template context for
`scheduling/email/notice.*` (outcomes returns `measures_url` when questionnaires are due
before the visit); a receiver with nothing to add returns an empty dict.

`notice_composing` is sent while any email about a visit (`scheduling/email/notice.*`:
confirmation, change, cancellation, reminder) is put together, with `appointment=` and
`kind=` (a `NoticeKind` value). A receiver returns a dict of extra template context (billing
returns `fee_policy`, the late-cancellation and no-show fee sentence), or an empty dict.

`visit_status_changed` is sent inside the transaction that changed a visit's status, with
`appointment=` (the locked visit, already saved), `source=` and `target=` (status values),
`late=` (a cancellation inside the late window), `actor=` and `now=`; a cancelled visit's
`cancelled_by` says whether the patient or the clinic called it off. A receiver's writes
share that transaction: billing drafts the visit's invoice when it is completed and charges
the late-cancellation fee (of the patient's cancellations only) or the no-show fee.
"""

from django.dispatch import Signal

reminder_composing = Signal()
notice_composing = Signal()
visit_status_changed = Signal()
