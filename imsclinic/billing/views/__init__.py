"""Billing pages, one module per subject."""
