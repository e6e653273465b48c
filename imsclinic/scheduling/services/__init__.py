"""Every write to the schedule: booking and moving visits, courses, the waitlist, the feed."""
