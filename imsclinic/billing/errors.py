"""Why a change of money was refused."""

from imsclinic.core.errors import Refused


class BillingRefused(Refused):
    """A change of money the rules do not allow; nothing was changed."""


class InvoiceLocked(BillingRefused):
    """The invoice is issued (or discarded) and can no longer change."""


class OverAllocated(BillingRefused):
    """More would be put towards invoices than the payment has, or than they owe."""
