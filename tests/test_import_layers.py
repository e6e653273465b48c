"""The areas depend on each other in one direction only (docs/ARCHITECTURE.md, "Layers").

The contracts live in pyproject.toml under [tool.importlinter]; this runs them as
`make lint` does, so a change that imports upwards fails the suite with the offending line.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_no_area_imports_one_above_it() -> None:
    lint_imports = Path(sys.executable).parent / "lint-imports"
    run = subprocess.run(
        [str(lint_imports), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert ", 0 broken" in run.stdout, run.stdout
