"""Test data shared by the suite: rows written as fixtures, and helpers many tests call.

Not part of the shipped package. Each module covers one area (charting, safety, ...); pytest
does not collect them (its python_files are test_*.py).
"""

from __future__ import annotations

import os
from zoneinfo import ZoneInfo

# The demo clinic's zone: where the tests' locations are.
VANCOUVER = ZoneInfo("America/Vancouver")

# Whether this run is CI's, where a missing browser or database fails a test instead of skipping it.
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
