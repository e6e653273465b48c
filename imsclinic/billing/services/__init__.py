"""Every change of money, one module per subject."""
