"""Production settings come from the environment, pass Django's deploy checks, and fail clearly."""

from __future__ import annotations

import importlib.util
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

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


def env_example_names() -> set[str]:
    lines = (ROOT / "deploy" / "imsclinic.env.example").read_text().splitlines()
    return {line.split("=", 1)[0] for line in lines if line.strip() and not line.startswith("#")}


def test_the_readme_lists_exactly_the_environment_of_the_production_template() -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Running in production", 1)[1].split("\n## ", 1)[0]
    listed = section.split("gives gunicorn and the worker:", 1)[1].split("Nothing else", 1)[0]
    names = {name.split("=", 1)[0] for name in re.findall(r"`([A-Z_]+(?:=\w+)?)`", listed)}
    assert names == env_example_names()
    assert "SECRET_KEY" in names and "DEBUG" not in names


def test_the_production_template_with_its_secrets_filled_in_passes_the_deploy_checks(
    tmp_path: Path,
) -> None:
    lines = (ROOT / "deploy" / "imsclinic.env.example").read_text().splitlines()
    template = dict(line.split("=", 1) for line in lines if line.strip() and line[0] != "#")
    env = production_env(tmp_path, **template)
    env["SECRET_KEY"] = secrets.token_urlsafe(50)
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'production.sqlite3'}"
    result = manage(env, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_units_start_gunicorn_with_the_recipes_config_and_the_task_worker() -> None:
    web = (ROOT / "deploy" / "imsclinic-web.service").read_text()
    worker = (ROOT / "deploy" / "imsclinic-worker.service").read_text()
    assert "ExecStart=/srv/imsclinic/.venv/bin/gunicorn --config deploy/gunicorn.conf.py" in web
    assert "ExecStart=/srv/imsclinic/.venv/bin/python manage.py db_worker" in worker
    for unit in (web, worker):
        assert "EnvironmentFile=/etc/imsclinic/imsclinic.env" in unit
        assert "owner.env" not in unit, "the services never get the owner role's password"


def gunicorn_config() -> Any:
    spec = importlib.util.spec_from_file_location("gunicorn_conf", ROOT / "deploy/gunicorn.conf.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_access_log_writes_url_patterns_not_ids_tokens_or_query_strings() -> None:
    config = gunicorn_config()
    assert config.bind == "127.0.0.1:8000"
    assert config.workers >= 3 and config.graceful_timeout > 0
    assert "%(q)s" not in config.access_log_format and "%(f)s" not in config.access_log_format
    route = config._route
    assert route("/staff/patients/4711/") == "/staff/patients/<int:patient_id>/"
    assert route("/check-in/NDI:1xaPf1:secret-part/") == "/check-in/<str:token>/"
    assert route("/accounts/confirm-email/Mg:1xaPf1:key/") == "/accounts/confirm-email/<key>/"
    assert route("/no/such/4711/") == "(unmatched)"
    assert route("/static/css/app.0123456789ab.css") == "/static/css/app.0123456789ab.css"
