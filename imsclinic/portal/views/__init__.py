"""Pages for signed-in patients: their visits, booking, moving, cancelling, the waitlist."""
