"""Outcome measure forms: the questionnaires and paper details, and the course's plan."""
