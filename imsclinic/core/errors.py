"""How a service refuses: one exception type, one sentence for the user, its fields' messages.

Every app's refusals subclass `Refused` and keep their own names (`StockRefused`,
`SlotUnavailable`, `OutcomeDuplicate` ...), which say why, so a page or the API catches the
ones it answers in its own way. `core.form_errors.refusal_to_form` puts one on a form.
"""

from __future__ import annotations

from collections.abc import Mapping


class Refused(Exception):
    """A change the rules do not allow as given; nothing was changed.

    `message` is one sentence for the user and `str(refusal)` is that sentence.
    `errors` maps the name of each field at fault to its message, one sentence a field: the
    services say one thing about a field, which a form shows beside it, so callers never
    unpack a list (the intake's validation, which can find several things, joins them and
    keeps the lists in `IntakeInvalid.answer_errors`). A field inside a numbered row is
    named with its 0-based index, "answers.3" or "rows.2.muscle". The three shapes:

    - about the change as a whole: `Refused("This lot was already recalled.")`, no errors;
    - about one field: `Refused("Say why.", field="reason")`, and `refusal.field` names it;
    - about several: `Refused("Correct the marked answers.", errors={...})`; without a
      message, the field messages joined are the sentence.
    """

    def __init__(
        self,
        message: str | None = None,
        *,
        field: str | None = None,
        errors: Mapping[str, str] | None = None,
    ) -> None:
        self.errors: dict[str, str] = dict(errors or {})
        if field is not None:
            self.errors[field] = message or ""
        self.message: str = message if message is not None else " ".join(self.errors.values())
        super().__init__(self.message)

    @property
    def field(self) -> str | None:
        """Return the one field this refusal is about, or None if it names none or several."""
        if len(self.errors) == 1:
            return next(iter(self.errors))
        return None

    @property
    def messages(self) -> list[str]:
        """Return every sentence to show: the fields' messages, or the message if none."""
        return list(self.errors.values()) if self.errors else [self.message]


class BookingError(Refused):
    """A booking, visit status change or cancellation the clinic's rules do not allow.

    It lives here rather than in scheduling because the safety rules refuse bookings and
    the start of treatment too (`safety.errors`), and safety does not import scheduling.
    """
