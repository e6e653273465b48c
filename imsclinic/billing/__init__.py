"""The clinic's money: fees, invoices, credit notes, payments, refunds, receipts and claims."""
