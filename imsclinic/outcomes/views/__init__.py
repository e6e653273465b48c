"""Outcome measure pages, a module for each: questionnaires, the plan, progress, the report."""
