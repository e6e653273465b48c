"""Why a change of money was refused."""

from __future__ import annotations

from typing import TYPE_CHECKING

from imsclinic.core.errors import Refused

if TYPE_CHECKING:
    from imsclinic.billing.models import Receipt


class BillingRefused(Refused):
    """A change of money the rules do not allow; nothing was changed."""


class InvoiceLocked(BillingRefused):
    """The invoice is issued (or discarded) and can no longer change."""


class OverAllocated(BillingRefused):
    """More would be put towards invoices than the payment has, or than they owe."""


class AlreadyReceipted(BillingRefused):
    """Everything the receipt would cover is on earlier receipts; `receipts` names them."""

    def __init__(self, message: str, *, receipts: tuple[Receipt, ...], field: str | None) -> None:
        super().__init__(message, field=field)
        self.receipts = receipts
