"""The forms of the charting pages: the assessment and the needling session note."""
