"""The demo clinic: `manage.py seed_demo` builds it through each area's own services.

This package depends on every area and nothing depends on it (an import contract in
pyproject.toml says so). Each module builds one area's part: `clinic` the clinic, its staff
and rooms, `scheduling` the visits, `consent`, `safety`, `charting`, `outcomes` and `followup`
what a course of IMS leaves behind.
"""
