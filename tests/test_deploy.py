"""Production settings come from the environment, pass Django's deploy checks, and fail clearly."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def production_env(tmp_path: Path, **overrides: str | None) -> dict[str, str]:
    """Return an environment like a production server's: no DEBUG, real secrets, real hosts."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DEBUG", "SECURE_", "DATABASE_URL", "DJANGO_", "PYTEST"))
    }
    env.update(
        {
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "clinic.example.com",
            "CSRF_TRUSTED_ORIGINS": "https://clinic.example.com",
            "SITE_URL": "https://clinic.example.com",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'production.sqlite3'}",
            "EMAIL_HOST": "smtp.example.com",
            "EMAIL_HOST_USER": "clinic",
            "EMAIL_HOST_PASSWORD": "not-a-real-password",
            "DEFAULT_FROM_EMAIL": "clinic@example.com",
            "BEHIND_TLS_PROXY": "1",
        }
    )
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_pass_the_deploy_checks_with_warnings_as_failures(
    tmp_path: Path,
) -> None:
    result = manage(production_env(tmp_path), "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_turns_on_https_only_cookies_and_strict_transport_security(
    tmp_path: Path,
) -> None:
    script = (
        "from django.conf import settings as s;"
        "print(s.DEBUG, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT,"
        " s.SECURE_HSTS_SECONDS >= 31536000, s.SECURE_PROXY_SSL_HEADER, s.ALLOWED_HOSTS)"
    )
    result = manage(production_env(tmp_path), "shell", "-c", script)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[-2] == (
        "False True True True True ('HTTP_X_FORWARDED_PROTO', 'https') ['clinic.example.com']"
    )


def test_production_without_a_secret_key_stops_at_start_up_and_says_what_to_set(
    tmp_path: Path,
) -> None:
    result = manage(production_env(tmp_path, SECRET_KEY=None), "check", "--deploy")
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr
    assert "DEBUG=1" in result.stderr, "the message tells a developer how to run locally"


def test_a_mistyped_yes_or_no_setting_is_refused_rather_than_guessed(tmp_path: Path) -> None:
    result = manage(production_env(tmp_path, BEHIND_TLS_PROXY="maybe"), "check")
    assert result.returncode != 0
    assert "BEHIND_TLS_PROXY" in result.stderr


def test_the_deploy_checks_catch_a_production_server_left_in_debug_mode(tmp_path: Path) -> None:
    # The positive result above only means something if the checks can fail here.
    result = manage(
        production_env(tmp_path, DEBUG="1"), "check", "--deploy", "--fail-level", "WARNING"
    )
    assert result.returncode != 0
    assert "security.W018" in result.stderr + result.stdout


def test_production_without_allowed_hosts_fails_the_deploy_checks(tmp_path: Path) -> None:
    env = production_env(tmp_path, ALLOWED_HOSTS=None)
    result = manage(env, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode != 0
    assert "security.W020" in result.stderr + result.stdout
