"""The charting pages: assessments, the session note, the chart and portal notes, the to-do list."""
