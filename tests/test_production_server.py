"""Production as deploy/ sets it up: the release, gunicorn and the task worker, over HTTP.

On a fresh PostgreSQL database made by deploy/postgres-setup.sql (an owner role and a
runtime role), deploy/release.sh runs its steps as the owner role; gunicorn and the task
worker then start with the command lines of deploy/imsclinic-web.service and
deploy/imsclinic-worker.service and exactly the environment of
deploy/imsclinic.env.example, with DEBUG off. A real HTTP client (its own cookies, CSRF
tokens, X-Forwarded-Proto as Caddy sends it) walks the site as visitors, the first owner,
a patient and an API client do. Mail goes to a small SMTP server in this test.

The app is copied to a folder of its own first, as a server's /srv/imsclinic, so
collectstatic never writes into this checkout.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import json
import os
import re
import secrets
import shlex
import shutil
import signal
import socket
import socketserver
import subprocess
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

import dj_database_url
import pytest

from imsclinic.demo.logins import current_code
from tests.factories import IN_CI

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
INSTALL_DIR = "/srv/imsclinic"  # where the units expect the app
HOST = "clinic.test"
ORIGIN = f"https://{HOST}"
CLINIC_NAME = "Harbour IMS Physiotherapy"
OWNER_EMAIL = "owner@clinic.test"
PATIENT = {"first_name": "Wren", "last_name": "Halvorsen", "email": "wren@patients.test"}
ONE_YEAR = 365 * 24 * 3600
HASHED_STATIC = re.compile(r"\.[0-9a-f]{12}\.(css|js|svg|map)$")
NOT_COPIED = (".git", ".venv", "var", "__pycache__", ".pytest_cache", ".mypy_cache")
NOT_COPIED += (".ruff_cache", ".hypothesis", "test-results", "node_modules")

# What allauth's confirmation email says in its subject (account/email/).
CONFIRM_SUBJECT = "Please confirm your email address"

# The owner sets these up at /manage/ (Django's admin saving the same models); the test
# enters them through the ORM in one command, as a quicker stand-in for those forms.
CLINIC_SETUP = f"""
import datetime as dt
from decimal import Decimal
from imsclinic.clinic.models import Clinic, Location, OpeningHours, Practitioner, Room, Service
from imsclinic.scheduling.models import Shift

clinic = Clinic.objects.create(
    name={CLINIC_NAME!r}, email="hello@clinic.test", phone="604-555-0142"
)
location = Location.objects.create(
    clinic=clinic, name="Harbour", slug="harbour", address_line1="1 Quay Street",
    city="Vancouver", region="BC", postal_code="V6B 1A1", phone="604-555-0143",
    time_zone="America/Vancouver",
)
Room.objects.create(location=location, name="Bed 1")
practitioner = Practitioner.objects.create(
    first_name="Ines", last_name="Kowal", slug="ines-kowal",
    registration_body="College of Physical Therapists of BC", registration_number="PT-2001",
    ims_certification_issuer="iSTOP", ims_certified_on=dt.date(2015, 6, 1),
    ims_practice_since=2015,
)
practitioner.locations.add(location)
Service.objects.create(
    name="Physiotherapy assessment", slug="physio-assessment", duration_minutes=45,
    price=Decimal("110.00"), requires_ims_credential=False, for_new_patients=True,
)
for weekday in range(7):
    OpeningHours.objects.create(
        location=location, weekday=weekday, opens=dt.time(7), closes=dt.time(20)
    )
    Shift.objects.create(
        practitioner=practitioner, location=location, weekday=weekday,
        start_time=dt.time(8), end_time=dt.time(18), valid_from=dt.date(2020, 1, 1),
    )
"""


# ---------------------------------------------------------------------------------------
# The pieces: PostgreSQL as a superuser sees it, a mail server, the HTTP client, processes


def postgres_admin() -> dict[str, Any]:
    """Return how to reach PostgreSQL as the test suite's own (superuser) account."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        message = "needs PostgreSQL: set DATABASE_URL=postgres://... (make test does)"
        if IN_CI:
            pytest.fail("CI requires PostgreSQL for this test; " + message)
        pytest.skip(message)
    return dj_database_url.parse(url)


def required_program(path: Path | str | None, what: str) -> str:
    if path is not None and Path(path).exists():
        return str(path)
    message = f"{what} is not installed; the production test needs it"
    if IN_CI:
        pytest.fail(message + " (required in CI)")
    pytest.skip(message)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class MailServer(socketserver.ThreadingTCPServer):
    """An SMTP server on 127.0.0.1 that keeps every message it is given."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _SmtpSession)
        self.messages: list[email.message.EmailMessage] = []
        self.arrived = threading.Condition()
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def port(self) -> int:
        return self.server_address[1]

    def keep(self, raw: bytes) -> None:
        message = email.message_from_bytes(raw, policy=email.policy.default)
        with self.arrived:
            self.messages.append(message)  # type: ignore[arg-type]
            self.arrived.notify_all()

    def wait_for(self, to: str, subject_has: str = "", timeout: float = 20) -> str:
        """Return the text of the first message to `to` (whose subject has the words)."""
        deadline = time.monotonic() + timeout
        with self.arrived:
            while True:
                for message in self.messages:
                    if to in str(message["To"]) and subject_has in str(message["Subject"]):
                        body = message.get_body(preferencelist=("plain", "html"))
                        return body.get_content() if body is not None else ""
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [(str(m["To"]), str(m["Subject"])) for m in self.messages]
                    pytest.fail(f"no email to {to} ({subject_has!r}) in {timeout} s; got {seen}")
                self.arrived.wait(left)


class _SmtpSession(socketserver.StreamRequestHandler):
    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self) -> None:
        self.reply("220 clinic.test test mail server")
        while raw := self.rfile.readline():
            verb = raw.strip().split(b" ", 1)[0].upper()
            if verb == b"EHLO":
                self.reply("250-clinic.test")
                self.reply("250 8BITMIME")
            elif verb == b"DATA":
                self.reply("354 end with a dot")
                lines = []
                while (line := self.rfile.readline()) not in (b".\r\n", b".\n", b""):
                    lines.append(line[1:] if line.startswith(b"..") else line)
                self.server.keep(b"".join(lines))  # type: ignore[attr-defined]
                self.reply("250 kept")
            elif verb == b"QUIT":
                self.reply("221 bye")
                return
            elif verb in (b"HELO", b"MAIL", b"RCPT", b"RSET", b"NOOP"):
                self.reply("250 ok")
            else:
                self.reply("502 not here")


class Visitor:
    """A browser as the site sees it behind Caddy: its own cookies, HTTPS as forwarded."""

    def __init__(self, base_url: str) -> None:
        import requests

        self.base_url = base_url
        self.session = requests.Session()
        self.session.headers.update({"Host": HOST, "X-Forwarded-Proto": "https"})
        # Production's cookies are Secure: a browser sends them over HTTPS to Caddy, which
        # passes them on over the plain local hop. requests keeps Secure cookies to https://
        # addresses, so this client keeps its own.
        self.cookies: dict[str, str] = {}

    def send(self, method: str, path: str, **kwargs: Any) -> Any:
        headers = dict(kwargs.pop("headers", {}))
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        response = self.session.request(
            method,
            self.base_url + path,
            headers=headers,
            allow_redirects=False,
            timeout=30,
            **kwargs,
        )
        self.session.cookies.clear()
        for header in response.raw.headers.getlist("Set-Cookie"):
            jar: SimpleCookie = SimpleCookie()
            jar.load(header)
            for name, morsel in jar.items():
                if morsel["max-age"] == "0" or not morsel.value:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        return response

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.send("GET", path, **kwargs)

    def post(self, path: str, data: dict[str, str], *, form_page: Any = None) -> Any:
        """POST a form the way a browser does: the page's CSRF token, the site as Origin."""
        page = form_page if form_page is not None else self.get(path)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        assert token, f"no CSRF token on {path} ({page.status_code})"
        return self.send(
            "POST",
            path,
            data={"csrfmiddlewaretoken": token.group(1), **data},
            headers={"Origin": ORIGIN, "Referer": ORIGIN + path},
        )

    def follow(self, response: Any, limit: int = 6) -> Any:
        """Follow redirects within the site, as a browser would."""
        for _ in range(limit):
            if response.status_code not in (301, 302, 303, 307, 308):
                return response
            location = response.headers["Location"]
            assert location.startswith(("/", ORIGIN)), f"redirect off the site: {location}"
            response = self.get(location.removeprefix(ORIGIN))
        return response


def path_of(response: Any) -> str:
    """Return the path (and query) a response answered, without the server's address."""
    from urllib.parse import urlsplit

    parts = urlsplit(response.url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def fresh_code(secret: str) -> str:
    """Return the authenticator's code, waiting out a period's last seconds so it stays valid."""
    from allauth.mfa import app_settings

    left = app_settings.TOTP_PERIOD - time.time() % app_settings.TOTP_PERIOD
    if left < 4:
        time.sleep(left + 0.2)
    return current_code(secret)


def site_path(url: str) -> str:
    assert url.startswith(ORIGIN), url
    return url.removeprefix(ORIGIN)


def links_in(text: str, path_start: str) -> list[str]:
    return re.findall(re.escape(ORIGIN + path_start) + r"[^\s\"'<>]+", text)


def static_files_in(html: str) -> set[str]:
    """Return the stylesheets and scripts a page links to."""
    styles = re.findall(r'<link[^>]*rel="stylesheet"[^>]*href="([^"]+)"', html)
    scripts = re.findall(r'<script[^>]*src="([^"]+)"', html)
    return set(styles) | set(scripts)


def read_env_file(path: Path) -> dict[str, str]:
    """Read NAME=value lines as systemd's EnvironmentFile (and release.sh) do."""
    values = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.startswith(("#", ";")):
            name, _, value = line.partition("=")
            values[name] = value
    return values


def exec_start(unit: str, app_dir: Path) -> list[str]:
    """Return a unit's ExecStart command line, with the app where this test put it."""
    for line in (DEPLOY / unit).read_text().splitlines():
        if line.startswith("ExecStart="):
            command = line.removeprefix("ExecStart=").replace(INSTALL_DIR, str(app_dir))
            return shlex.split(command)
    raise AssertionError(f"{unit} has no ExecStart")


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait()


@dataclass
class Server:
    url: str
    app_dir: Path
    env: dict[str, str]
    owner_url: str
    roles: tuple[str, str]
    mail: MailServer
    release_output: str
    web: Process
    worker: Process
    started: float
    static_seen: set[str] = field(default_factory=set)
    state: dict[str, Any] = field(default_factory=dict)

    def visitor(self) -> Visitor:
        return Visitor(self.url)

    def page(self, visitor: Visitor, path: str, status: int = 200) -> Any:
        response = visitor.get(path)
        assert response.status_code == status, (
            f"{path}: {response.status_code}\n{response.text[:2000]}"
        )
        self.static_seen |= static_files_in(response.text)
        return response


def run(
    command: list[str],
    env: dict[str, str],
    cwd: Path,
    timeout: float = 180,
    *,
    stdout_only: bool = False,
) -> str:
    done = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert done.returncode == 0, f"{shlex.join(command)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout if stdout_only else done.stdout + done.stderr


def admin_sql(admin: dict[str, Any], *statements: str) -> None:
    import psycopg

    with psycopg.connect(
        host=admin.get("HOST") or None,
        port=admin.get("PORT") or None,
        user=admin.get("USER") or None,
        password=admin.get("PASSWORD") or None,
        dbname="postgres",
        autocommit=True,
    ) as conn:
        for statement in statements:
            conn.execute(statement)  # type: ignore[arg-type]


def copy_app(target: Path) -> Path:
    shutil.copytree(ROOT, target, ignore=shutil.ignore_patterns(*NOT_COPIED), symlinks=True)
    (target / ".venv").symlink_to(ROOT / ".venv")
    return target


def start(name: str, command: list[str], env: dict[str, str], cwd: Path, logs: Path) -> Process:
    log = logs / f"{name}.log"
    with log.open("wb") as out:
        popen = subprocess.Popen(
            command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    return Process(name, popen, log)


def wait_until_it_answers(server_url: str, web: Process, timeout: float = 60) -> None:
    visitor = Visitor(server_url)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if web.popen.poll() is not None:
            pytest.fail(f"gunicorn exited ({web.popen.returncode}):\n{web.output()}")
        try:
            if visitor.get("/").status_code == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    pytest.fail(f"gunicorn did not answer within {timeout} s:\n{web.output()}")


# ---------------------------------------------------------------------------------------
# The server, set up once for the whole file


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    started = time.monotonic()
    admin = postgres_admin()
    psql = required_program(shutil.which("psql"), "PostgreSQL's psql client")
    venv_bin = ROOT / ".venv" / "bin"
    required_program(venv_bin / "gunicorn", "gunicorn (make install)")

    tmp = tmp_path_factory.mktemp("production")
    logs = tmp / "logs"
    logs.mkdir()
    # Names of this run alone: roles are shared by the whole PostgreSQL cluster.
    base, suffix = admin["NAME"][:28], secrets.token_hex(4)
    database, owner, app = f"{base}_srv_{suffix}", f"{base}_own_{suffix}", f"{base}_app_{suffix}"
    owner_password, app_password = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    where = f"{admin.get('HOST') or '127.0.0.1'}:{admin.get('PORT') or 5432}"
    plain_env = {"PATH": os.environ["PATH"], "LANG": "C.UTF-8", "HOME": str(tmp)}
    mail = MailServer()
    processes: list[Process] = []
    timings: dict[str, float] = {}

    def lap(name: str) -> None:
        timings[name] = round(time.monotonic() - started - sum(timings.values()), 1)

    try:
        # 1. deploy/postgres-setup.sql as the superuser, then each role's password.
        psql_env = dict(plain_env)
        if admin.get("PASSWORD"):
            psql_env["PGPASSWORD"] = admin["PASSWORD"]
        setup = [psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", admin.get("HOST") or "127.0.0.1"]
        setup += ["-p", str(admin.get("PORT") or 5432), "-U", admin.get("USER") or "postgres"]
        setup += ["-d", "postgres", "-v", f"owner={owner}", "-v", f"app={app}"]
        setup += ["-v", f"db={database}", "-f", str(DEPLOY / "postgres-setup.sql")]
        run(setup, psql_env, ROOT, timeout=60)
        admin_sql(
            admin,
            f"ALTER ROLE \"{owner}\" PASSWORD '{owner_password}'",
            f"ALTER ROLE \"{app}\" PASSWORD '{app_password}'",
        )

        # 2. The app where a server keeps it, and its two environment files.
        app_dir = copy_app(tmp / "srv" / "imsclinic")
        example = read_env_file(DEPLOY / "imsclinic.env.example")
        values = {
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": HOST,
            "CSRF_TRUSTED_ORIGINS": ORIGIN,
            "SITE_URL": ORIGIN,
            "DATABASE_URL": f"postgres://{app}:{app_password}@{where}/{database}",
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(mail.port),
            "EMAIL_USE_TLS": "0",
            "EMAIL_HOST_USER": "",
            "EMAIL_HOST_PASSWORD": "",
            "DEFAULT_FROM_EMAIL": "hello@clinic.test",
            "BEHIND_TLS_PROXY": "1",
            "MEDIA_ROOT": str(tmp / "state" / "media"),
            "AUDIT_CHECKPOINT_FILE": str(tmp / "anchor" / "audit-checkpoints.log"),
        }
        assert set(values) == set(example), "the test sets exactly the example's names"
        app_env_file = tmp / "imsclinic.env"
        app_env_file.write_text("".join(f"{name}={value}\n" for name, value in values.items()))
        owner_env_file = tmp / "owner.env"
        owner_env_file.write_text(
            f"DATABASE_URL=postgres://{owner}:{owner_password}@{where}/{database}\n"
        )
        env = {**plain_env, **read_env_file(app_env_file)}
        lap("database and roles, app copied")

        # 3. The release, as the owner role.
        release_env = {
            **plain_env,
            "IMSCLINIC_ENV": str(app_env_file),
            "IMSCLINIC_OWNER_ENV": str(owner_env_file),
        }
        release_output = run(
            [str(app_dir / "deploy" / "release.sh"), "--no-restart"], release_env, app_dir
        )
        lap("release.sh")

        # 4. The web server and the task worker, as their units start them.
        port = free_port()
        web_command = [*exec_start("imsclinic-web.service", app_dir), "--bind", f"127.0.0.1:{port}"]
        web = start("gunicorn", web_command, env, app_dir, logs)
        processes.append(web)
        worker = start(
            "worker", exec_start("imsclinic-worker.service", app_dir), env, app_dir, logs
        )
        processes.append(worker)

        # 5. Meanwhile, the clinic's settings and its first owner, with deploy/manage.sh as
        # docs/DEPLOY.md does (the owner's API token comes once they have an authenticator).
        manage = [str(app_dir / "deploy" / "manage.sh")]
        manage_env = {**plain_env, "IMSCLINIC_ENV": str(app_env_file)}
        owner_password_app = secrets.token_urlsafe(16)

        with ThreadPoolExecutor(max_workers=2) as pool:
            settings_done = pool.submit(
                run, [*manage, "shell", "-c", CLINIC_SETUP], manage_env, app_dir
            )
            owner_done = pool.submit(
                run,
                [*manage, "createsuperuser", "--noinput", "--email", OWNER_EMAIL],
                {**manage_env, "DJANGO_SUPERUSER_PASSWORD": owner_password_app},
                app_dir,
            )
            settings_done.result()
            owner_done.result()

        url = f"http://127.0.0.1:{port}"
        wait_until_it_answers(url, web)
        lap("servers up, owner and settings made")
        yield Server(
            url=url,
            app_dir=app_dir,
            env=env,
            owner_url=f"postgres://{owner}:{owner_password}@{where}/{database}",
            roles=(owner, app),
            mail=mail,
            release_output=release_output,
            web=web,
            worker=worker,
            started=started,
            state={
                "owner_password": owner_password_app,
                "database": database,
                "timings": timings,
                "manage": manage,
                "manage_env": manage_env,
            },
        )
    finally:
        for process in processes:
            process.stop()
        mail.shutdown()
        mail.server_close()
        admin_sql(
            admin,
            f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)',
            f'DROP ROLE IF EXISTS "{app}"',
            f'DROP ROLE IF EXISTS "{owner}"',
        )


@pytest.fixture(scope="module")
def owner_secret(server: Server) -> str:
    """Bring the first owner in as docs/DEPLOY.md says: confirm the email, add an authenticator."""
    owner = server.visitor()
    signed_in = owner.post(
        "/accounts/login/", {"login": OWNER_EMAIL, "password": server.state["owner_password"]}
    )
    assert signed_in.status_code == 302, signed_in.text[:2000]
    # Other mail may reach the owner first (the worker's own reminders): wait for this one.
    text = server.mail.wait_for(OWNER_EMAIL, subject_has=CONFIRM_SUBJECT)
    (confirm,) = set(links_in(text, "/accounts/confirm-email/"))
    confirm_path = site_path(confirm)
    confirmed = owner.post(confirm_path, {}, form_page=server.page(owner, confirm_path))
    setup = owner.follow(confirmed)
    if path_of(setup).startswith("/accounts/reauthenticate/"):
        # allauth may ask for the password again before an authenticator is added.
        reauthenticated = owner.post(
            path_of(setup), {"password": server.state["owner_password"]}, form_page=setup
        )
        setup = owner.follow(reauthenticated)
    assert path_of(setup) == "/accounts/2fa/totp/activate/", setup.url
    secret = re.search(r'<code id="totp-secret"[^>]*>\s*([A-Z2-7]+)\s*</code>', setup.text)
    assert secret, setup.text[:2000]
    activated = owner.post(
        "/accounts/2fa/totp/activate/", {"code": fresh_code(secret.group(1))}, form_page=setup
    )
    assert activated.status_code == 302, activated.text[:2000]
    assert server.page(owner, "/staff/patients/").status_code == 200
    return secret.group(1)


@pytest.fixture(scope="module")
def patient_signed_up(server: Server) -> Visitor:
    """A patient signs up on the site and confirms their email address."""
    patient = server.visitor()
    form = server.page(patient, "/accounts/signup/")
    password = secrets.token_urlsafe(16)
    server.state["patient_password"] = password
    signed_up = patient.post(
        "/accounts/signup/",
        {
            **PATIENT,
            "date_of_birth": "1984-05-06",
            "phone": "604-555-0177",
            "password1": password,
            "password2": password,
        },
        form_page=form,
    )
    assert signed_up.status_code == 302, signed_up.text[:3000]
    text = server.mail.wait_for(PATIENT["email"], subject_has=CONFIRM_SUBJECT)
    (confirm,) = set(links_in(text, "/accounts/confirm-email/"))
    server.state["confirm_key"] = confirm.rstrip("/").rsplit("/", 1)[-1]
    confirm_path = site_path(confirm)
    confirmed = patient.post(confirm_path, {}, form_page=server.page(patient, confirm_path))
    assert confirmed.status_code == 302, confirmed.text[:2000]
    patient.follow(confirmed)
    return patient


# ---------------------------------------------------------------------------------------
# The checks


def test_the_release_migrates_as_the_owner_role_and_passes_the_deploy_checks(
    server: Server,
) -> None:
    import psycopg

    for step in ("migrate", "createcachetable", "collectstatic", "grant_runtime_role"):
        assert f"release: {step}" in server.release_output
    assert "no issues" in server.release_output, server.release_output
    owner, _runtime = server.roles
    with psycopg.connect(server.owner_url) as conn:
        owners = dict(
            conn.execute(
                "SELECT tableowner, count(*) FROM pg_tables WHERE schemaname = 'public'"
                " GROUP BY tableowner"
            ).fetchall()
        )
    assert set(owners) == {owner}, owners
    assert owners[owner] > 50
    assert (server.app_dir / "var" / "staticfiles" / "staticfiles.json").is_file()


def test_every_public_page_answers_with_the_clinic_and_hashed_static_files(
    server: Server,
) -> None:
    from django.urls import reverse

    from imsclinic.web.urls import urlpatterns

    visitor = server.visitor()
    for pattern in urlpatterns:
        kwargs = {"slug": "ines-kowal"} if "<slug:slug>" in str(pattern.pattern) else {}
        path = reverse(pattern.name, kwargs=kwargs)
        page = server.page(visitor, path)
        assert CLINIC_NAME in page.text, path
        linked = static_files_in(page.text)
        assert linked, f"{path} links no stylesheet or script"
        assert all(HASHED_STATIC.search(url) for url in linked), linked


def test_the_sign_in_page_answers(server: Server) -> None:
    page = server.page(server.visitor(), "/accounts/login/")
    assert 'name="password"' in page.text


def test_an_unknown_address_gets_the_sites_own_not_found_page(server: Server) -> None:
    page = server.page(server.visitor(), "/no-such-page/", status=404)
    assert "We could not find that page" in page.text
    assert CLINIC_NAME in page.text


def test_staff_sign_in_with_an_authenticator_code_and_open_a_staff_page(
    server: Server, owner_secret: str, patient_signed_up: Visitor
) -> None:
    staff = server.visitor()
    signed_in = staff.post(
        "/accounts/login/", {"login": OWNER_EMAIL, "password": server.state["owner_password"]}
    )
    assert signed_in.headers.get("Location") == "/accounts/2fa/authenticate/"
    assert staff.get("/staff/patients/").status_code == 302, "no staff page before the code"
    code_page = server.page(staff, "/accounts/2fa/authenticate/")
    passed = staff.post(
        "/accounts/2fa/authenticate/", {"code": fresh_code(owner_secret)}, form_page=code_page
    )
    assert passed.status_code == 302, passed.text[:2000]
    found = server.page(staff, f"/staff/patients/?q={PATIENT['last_name']}")
    assert PATIENT["last_name"] in found.text
    assert server.page(staff, "/manage/").status_code == 200
    # The clinic's money, with collected static files and DEBUG off: the desk's invoice
    # list and the owner's reports, whose day sheet and receivables read every payment.
    for billing_page in (
        "/staff/billing/invoices/",
        "/staff/billing/reports/",
        "/staff/billing/reports/day-sheet/",
        "/staff/billing/reports/receivables/",
    ):
        assert server.page(staff, billing_page).status_code == 200, billing_page


def test_a_patient_signs_up_then_signs_in_with_a_password_and_opens_their_portal(
    server: Server, patient_signed_up: Visitor
) -> None:
    assert PATIENT["first_name"] in server.page(patient_signed_up, "/portal/").text
    patient = server.visitor()
    signed_in = patient.post(
        "/accounts/login/",
        {"login": PATIENT["email"], "password": server.state["patient_password"]},
    )
    assert signed_in.status_code == 302, signed_in.text[:2000]
    assert path_of(patient.follow(signed_in)) == "/portal/"
    portal = server.page(patient, "/portal/")
    assert PATIENT["first_name"] in portal.text
    assert "You owe nothing" in server.page(patient, "/portal/billing/").text


@pytest.fixture(scope="module")
def owner_token(server: Server, owner_secret: str) -> str:
    """Issue the owner an API token from the command line, now that they have an authenticator."""
    return run(
        [*server.state["manage"], "issue_api_token", OWNER_EMAIL, "--name", "production test"],
        server.state["manage_env"],
        server.app_dir,
        stdout_only=True,
    ).strip()


def test_an_api_token_books_a_visit_and_the_worker_emails_the_confirmation(
    server: Server, patient_signed_up: Visitor, owner_token: str
) -> None:
    api = server.visitor()
    api.session.headers["Authorization"] = f"Bearer {owner_token}"
    found = api.get(f"/api/v1/patients?search={PATIENT['last_name']}")
    assert found.status_code == 200, found.text
    (patient,) = found.json()["items"]
    tomorrow = dt.date.today() + dt.timedelta(days=1)
    slots = api.get(f"/api/v1/availability?service=physio-assessment&start={tomorrow}&days=7")
    assert slots.status_code == 200, slots.text
    slot = slots.json()["slots"][0]
    booked = api.send(
        "POST",
        "/api/v1/appointments",
        data=json.dumps(
            {
                "service": "physio-assessment",
                "practitioner": slot["practitioner"],
                "start": slot["start"],
                "patient": patient["id"],
            }
        ),
        headers={"Content-Type": "application/json"},
    )
    assert booked.status_code == 201, booked.text
    assert "no-store" in booked.headers["Cache-Control"]
    # The confirmation goes out from the task worker, not from the web request.
    text = server.mail.wait_for(
        PATIENT["email"], subject_has="Booked: Physiotherapy assessment", timeout=30
    )
    assert "Harbour" in text


def test_every_stylesheet_and_script_answers_with_a_cache_lifetime_of_a_year(
    server: Server,
) -> None:
    assert len(server.static_seen) >= 4, server.static_seen
    visitor = server.visitor()
    for url in sorted(server.static_seen):
        response = visitor.get(url)
        assert response.status_code == 200, url
        assert HASHED_STATIC.search(url), f"{url} has no hashed name"
        max_age = re.search(r"max-age=(\d+)", response.headers.get("Cache-Control", ""))
        assert max_age and int(max_age.group(1)) >= ONE_YEAR, (url, response.headers)


def test_the_access_log_names_routes_without_search_terms_or_link_tokens(
    server: Server,
) -> None:
    log = server.web.output()
    assert '"GET /staff/patients/ HTTP/1.1" 200' in log, log[-3000:]
    assert PATIENT["last_name"] not in log
    assert server.state["confirm_key"] not in log
    assert "/accounts/confirm-email/<key>/" in log


def test_the_master_compiles_the_templates_and_freezes_what_it_holds_before_forking(
    server: Server,
) -> None:
    log = server.web.output()
    compiled = re.search(r"compiled (\d+) templates before starting the workers", log)
    frozen = re.search(r"froze (\d+) objects before starting the workers", log)
    assert compiled and int(compiled.group(1)) > 200, log[-3000:]
    assert frozen and int(frozen.group(1)) > 100_000, log[-3000:]
    assert log.index(frozen.group(0)) < log.index("Booting worker"), log[-3000:]


def test_the_web_server_and_the_worker_keep_running_with_no_errors_in_their_logs(
    server: Server,
) -> None:
    for process in (server.web, server.worker):
        assert process.popen.poll() is None, f"{process.name} stopped:\n{process.output()}"
        log = process.output()
        for sign in ("Traceback", " ERROR ", "[ERROR]", "CRITICAL"):
            assert sign not in log, f"{process.name} log:\n{log[-5000:]}"
    assert "Task id=" in server.worker.output() or "Starting worker" in server.worker.output()
    elapsed = time.monotonic() - server.started
    steps = ", ".join(f"{name} {seconds} s" for name, seconds in server.state["timings"].items())
    print(f"\nproduction test: {elapsed:.1f} s to the last check ({steps})")


def test_the_worker_seals_the_audit_log_and_anchors_its_head_outside_the_database(
    server: Server, patient_signed_up: Visitor
) -> None:
    anchor = Path(server.env["AUDIT_CHECKPOINT_FILE"])
    deadline = time.monotonic() + 30
    while not anchor.exists() and time.monotonic() < deadline:
        time.sleep(0.5)
    first = json.loads(anchor.read_text().splitlines()[0])
    assert first["reason"] == "daily"
    # By hand, as docs/DEPLOY.md says; then the whole chain verifies against it.
    run(
        [*server.state["manage"], "audit_checkpoint"],
        server.state["manage_env"],
        server.app_dir,
    )
    checked = run(
        [*server.state["manage"], "verify_audit_log"],
        server.state["manage_env"],
        server.app_dir,
        stdout_only=True,
    )
    assert "Audit log intact" in checked, checked
