"""Production's static files: every vendored file is complete, and collectstatic succeeds.

Production stores static files with whitenoise's CompressedManifestStaticFilesStorage, which
follows every file a CSS or JavaScript file names (a source map, a `url()`, an `@import`) and
stops at one that is missing; without a manifest every page then answers 500.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

ROOT = Path(__file__).resolve().parent.parent
VENDOR = ROOT / "static" / "vendor"
SOURCE_MAP = re.compile(r"[#@]\s*sourceMappingURL=([^\s*]+)")
PRODUCTION_STORAGE = "whitenoise.storage.CompressedManifestStaticFilesStorage"


def vendored_files() -> list[Path]:
    return sorted(path for path in VENDOR.rglob("*") if path.suffix in {".js", ".css"})


def test_every_source_map_a_vendored_file_names_is_vendored_beside_it() -> None:
    files = vendored_files()
    assert files, "no vendored files found"
    missing = []
    for path in files:
        for name in SOURCE_MAP.findall(path.read_text(encoding="utf-8")):
            if name.startswith("data:"):
                continue
            if not (path.parent / name).is_file():
                missing.append(f"{path.relative_to(ROOT)} names {name}")
    assert missing == []


def test_every_vendored_folder_is_listed_with_its_version_in_the_vendor_readme() -> None:
    readme = (VENDOR / "README.md").read_text(encoding="utf-8")
    for folder in sorted(path for path in VENDOR.iterdir() if path.is_dir()):
        assert f"| {folder.name} |" in readme, f"{folder.name} is not in static/vendor/README.md"


# Needs no database and takes a while: it runs in the SQLite pass, and
# tests/test_production_server.py runs collectstatic in the PostgreSQL pass.
@pytest.mark.sqlite_pass
def test_collectstatic_with_the_production_storage_hashes_every_file(tmp_path: Path) -> None:
    storages = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": PRODUCTION_STORAGE},
    }
    with override_settings(STORAGES=storages, STATIC_ROOT=tmp_path):
        call_command("collectstatic", interactive=False, verbosity=0)
    paths = json.loads((tmp_path / "staticfiles.json").read_text())["paths"]
    for path in vendored_files():
        name = path.relative_to(ROOT / "static").as_posix()
        assert name in paths, f"{name} is missing from the manifest"
        assert paths[name] != name, f"{name} was not given a hashed name"
    chart = paths["vendor/chartjs-4.6.1/chart.umd.min.js"]
    # The storage points the script at the hashed name of its source map.
    assert "sourceMappingURL=chart.umd.min." in (tmp_path / chart).read_text()
    assert (tmp_path / paths["vendor/chartjs-4.6.1/chart.umd.min.js.map"]).is_file()


def test_collectstatic_with_the_production_storage_stops_at_a_missing_source_map(
    tmp_path: Path,
) -> None:
    # The check above means something only if the storage really refuses an incomplete file.
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "widget.min.js").write_text("var w=1;\n//# sourceMappingURL=widget.min.js.map\n")
    storages = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": PRODUCTION_STORAGE},
    }
    with (
        override_settings(
            STORAGES=storages, STATIC_ROOT=tmp_path / "out", STATICFILES_DIRS=[broken]
        ),
        pytest.raises(CommandError, match=r"widget\.min\.js\.map"),
    ):
        call_command("collectstatic", interactive=False, verbosity=0)
