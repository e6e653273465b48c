"""Staff scheduling pages: the calendar, acting on visits, booking for a patient, the feed."""
