"""`make load`: a load test of the whole app, as a clinic's people use it, on PostgreSQL.

1. Builds its own database (LOAD_DATABASE_URL, default imsclinic_loadtest on the test server:
   TEST_POSTGRES_URL, DATABASE_URL or postgres://postgres@127.0.0.1:5432), dropping any
   earlier one of that name, and fills it (bench/load/seed.py): the scheduling bench's clinic
   with LOAD_APPOINTMENTS visits of history, and the people of the mix made through the app's
   services. Then ANALYZE.
2. Collects the static files into a temporary folder and starts gunicorn with the deployed
   configuration (deploy/gunicorn.conf.py: gthread, 2 x cores + 1 workers of 2 threads, the
   access log written) with DEBUG off and the production settings (bench/load/settings.py),
   database connections kept 60 s. Tasks go to the database backend as in
   production; no task worker runs, so they wait in their table (what a request costs is
   queueing them, not sending the mail).
3. Runs locust headless in a process of its own (bench/load/locustfile.py): LOAD_USERS people
   (default 50) spawned at LOAD_SPAWN_RATE a second, each signing in once, then LOAD_SECONDS
   (default 180) measured, with 1-3 s of thought between pages.
4. Meanwhile counts the server's CPU time (user + system, from /proc): the gunicorn master and
   workers, and every PostgreSQL backend connected to the load database
   (pg_stat_activity), sampled twice a second so that connections closed during the run
   still count, over the measured period only.
5. Afterwards checks that no two active visits overlap for a practitioner, a bed or a
   patient, seals the audit log and verifies its chain; drops the database.
6. Prints a table per page and the `name: value` lines of docs/PERFORMANCE.md. A missed
   goal is reported, never a failure of the run.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench.load.page_cpu import summary as page_cpu_summary
from bench.postgres import admin_connect, database_url, recreate_database

ROOT = Path(__file__).resolve().parent.parent.parent
DATABASE = "imsclinic_loadtest"
USERS = int(os.environ.get("LOAD_USERS", "50"))
SECONDS = int(os.environ.get("LOAD_SECONDS", "180"))
# Signing in checks an Argon2 hash: two people a second keeps the ramp from being the test.
SPAWN_RATE = float(os.environ.get("LOAD_SPAWN_RATE", "2"))
SAMPLE_EVERY_S = 0.5
SECRET_KEY = "load-test-only-" + "x" * 50
# Goals (issue 18; docs/PERFORMANCE.md).
P95_GOAL_MS = 300.0
CPU_GOAL_MS = 20.0
SIGN_IN = "sign in"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, round(share * len(ordered)) - 1)] if ordered else 0.0


# ---- the server's CPU ----------------------------------------------------------------------


class CpuMeter:
    """Sum the CPU time of the gunicorn tree and the load database's backends over a period."""

    def __init__(self, server_pid: int, url: str) -> None:
        self.server_pid = server_pid
        self.database = urlsplit(url).path.lstrip("/")
        self.url = url
        self.tick = os.sysconf("SC_CLK_TCK")
        self.base: dict[int, int] = {}
        self.last: dict[int, int] = {}
        self.began_ticks = 0.0
        self.stop = threading.Event()
        self.thread: threading.Thread | None = None
        self.connection: Any = None

    @staticmethod
    def stat(pid: int) -> tuple[int, int, int] | None:
        """Return (parent pid, utime + stime, start time) of a process, in clock ticks."""
        try:
            text = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return None
        fields = text[text.rindex(")") + 2 :].split()
        return int(fields[1]), int(fields[11]) + int(fields[12]), int(fields[19])

    def pids(self) -> list[int]:
        workers = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                found = self.stat(int(entry.name))
                if found is not None and found[0] == self.server_pid:
                    workers.append(int(entry.name))
        rows = self.connection.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s", [self.database]
        ).fetchall()
        return [self.server_pid, *workers, *(row[0] for row in rows)]

    def sample(self) -> None:
        for pid in self.pids():
            found = self.stat(pid)
            if found is None:
                continue
            _parent, used, started = found
            if pid not in self.base:
                # Started during the period: all of its time is the period's.
                self.base[pid] = 0 if started >= self.began_ticks else used
            self.last[pid] = used

    def start(self) -> None:
        self.connection = admin_connect(self.url)
        uptime = float(Path("/proc/uptime").read_text().split()[0])
        self.began_ticks = uptime * self.tick
        for pid in self.pids():
            found = self.stat(pid)
            if found is not None:
                self.base[pid] = self.last[pid] = found[1]
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self) -> None:
        while not self.stop.wait(SAMPLE_EVERY_S):
            self.sample()

    def finish(self) -> float:
        """Take the last sample and return the period's CPU seconds."""
        self.stop.set()
        if self.thread is not None:
            self.thread.join()
        self.sample()
        self.connection.close()
        return sum(self.last[pid] - self.base[pid] for pid in self.last) / self.tick


# ---- the run ---------------------------------------------------------------------------------


def server_env(static_root: Path, page_cpu: Path | None = None) -> dict[str, str]:
    env = {"LOAD_STATIC_ROOT": str(static_root), "SECRET_KEY": SECRET_KEY}
    if page_cpu is not None:
        env["LOAD_PAGE_CPU"] = str(page_cpu)
    return env


def collect_static(url: str, static_root: Path) -> None:
    """Collect the static files as a release does, with the production settings."""
    env = {
        **os.environ,
        **server_env(static_root),
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "bench.load.settings",
        "DEBUG": "0",
        "ALLOWED_HOSTS": "127.0.0.1",
    }
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
    )


def run_locust(port: int, folder: Path, plan_path: Path, meter: CpuMeter) -> dict[str, Any]:
    """Run the mix; start the CPU meter when everyone has signed in; return the figures."""
    marks = folder / "marks.txt"
    results = folder / "results.json"
    ramp_s = USERS / SPAWN_RATE + 15
    env = {
        **os.environ,
        "LOAD_PLAN": str(plan_path),
        "LOAD_RESULTS": str(results),
        "LOAD_MARKS": str(marks),
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    command = [
        str(Path(sys.executable).with_name("locust")),
        "-f",
        str(Path(__file__).with_name("locustfile.py")),
        "--headless",
        "--host",
        f"http://127.0.0.1:{port}",
        "--users",
        str(USERS),
        "--spawn-rate",
        str(SPAWN_RATE),
        "--run-time",
        f"{int(ramp_s + SECONDS)}s",
        "--stop-timeout",
        "10",
        "--only-summary",
        "--loglevel",
        "WARNING",
    ]
    log = (folder / "locust.log").open("wb")
    locust = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    started = False
    stopped_early = False
    try:
        while locust.poll() is None:
            text = marks.read_text() if marks.exists() else ""
            if not started and "start" in text:
                meter.start()
                started = True
                # The pages' own CPU counts from here too, as the meter's does.
                for path in (folder / "page-cpu").glob("cpu-*.tsv"):
                    path.unlink()
                # Everyone is in: measure SECONDS from here, whatever the ramp took.
                deadline = time.monotonic() + SECONDS
            if started and time.monotonic() >= deadline and not stopped_early:
                locust.terminate()  # locust stops the users and writes its figures
                stopped_early = True
            time.sleep(0.1)
    finally:
        if locust.poll() is None:
            locust.kill()
        log.close()
    cpu_s = meter.finish() if started else 0.0
    if not results.exists():
        tail = (folder / "locust.log").read_text(errors="replace")[-3000:]
        raise SystemExit(f"load: locust wrote no figures:\n{tail}")
    figures: dict[str, Any] = json.loads(results.read_text())
    figures["cpu_s"] = cpu_s
    figures["locust_log"] = (folder / "locust.log").read_text(errors="replace")
    return figures


def check_database() -> tuple[int, str]:
    """Count overlapping active visits and verify the audit chain, in this process."""
    from django.db import connection

    from imsclinic.core.audit import ChainBreak, seal_pending, verify_chain
    from imsclinic.scheduling.models import ACTIVE_STATUSES

    statuses = [str(status) for status in ACTIVE_STATUSES]
    overlaps = 0
    with connection.cursor() as cursor:
        # Each active visit that starts before an earlier one of the same practitioner, bed or
        # patient has ended (practitioner and bed: with the buffer; the patient: the visit).
        for column, until in (
            ("practitioner_id", "busy_until"),
            ("room_id", "busy_until"),
            ("patient_id", '"end"'),
        ):
            cursor.execute(
                f"""
                SELECT count(*) FROM (
                    SELECT "start", max({until}) OVER (
                        PARTITION BY {column} ORDER BY "start", id
                        ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
                    ) AS earlier_until
                    FROM scheduling_appointment
                    WHERE status = ANY(%s) AND {column} IS NOT NULL
                ) AS visits
                WHERE "start" < earlier_until
                """,
                [statuses],
            )
            overlaps += cursor.fetchone()[0]
    seal_pending()
    broken = any(isinstance(item, ChainBreak) for item in verify_chain())
    return overlaps, "broken" if broken else "verified"


def report(figures: dict[str, Any], console: Any) -> list[tuple[str, str]]:
    """Print the per-page table; return the summary lines."""
    from rich.table import Table

    millis: dict[str, list[float]] = figures["millis"]
    failures: dict[str, int] = figures["failures"]
    table = Table(title=f"{USERS} people, {SECONDS} s measured (sign-ins: the whole ramp)")
    for column in ("page", "requests", "failures", "p50 ms", "p95 ms", "p99 ms"):
        table.add_column(column, justify="left" if column == "page" else "right")
    pages = sorted(millis, key=lambda name: (name.startswith(SIGN_IN), name))
    for name in pages:
        values = millis[name]
        table.add_row(
            name,
            str(len(values)),
            str(failures.get(name, 0)),
            f"{percentile(values, 0.5):.0f}",
            f"{percentile(values, 0.95):.0f}",
            f"{percentile(values, 0.99):.0f}",
        )
    console.print(table)
    measured = [name for name in millis if not name.startswith(SIGN_IN)]
    requests = sum(len(millis[name]) for name in measured)
    seconds = (figures["stopped"] or 0) - (figures["started"] or 0)
    p95_max = max((percentile(millis[name], 0.95) for name in measured), default=0.0)
    slowest = max(measured, key=lambda name: percentile(millis[name], 0.95), default="")
    cpu_ms = 1000 * figures["cpu_s"] / requests if requests else 0.0
    # Every request that answered 5xx is among the failures: no page or call accepts one.
    errors = sum(failures.values())
    sign_in = millis.get(f"{SIGN_IN}: password", [])
    cpu_table = Table(title="The server's Python CPU per page over the measured period")
    for column in ("request", "count", "CPU ms each", "wall ms each", "CPU s in all", "share"):
        cpu_table.add_column(column, justify="left" if column == "request" else "right")
    python_s = sum(row[4] for row in figures["page_cpu"]) or 1.0
    for name, count, cpu_each, wall_each, cpu_all in figures["page_cpu"][:30]:
        cpu_table.add_row(
            name,
            str(count),
            f"{cpu_each:.1f}",
            f"{wall_each:.1f}",
            f"{cpu_all:.1f}",
            f"{100 * cpu_all / python_s:.0f}%",
        )
    console.print(cpu_table)
    console.print(f"Python CPU in the server's request threads: {python_s:.1f} s.")
    console.print(f"Slowest page at p95: {slowest or 'none'}; server CPU {figures['cpu_s']:.1f} s.")
    for reason, count in sorted(figures["reasons"].items(), key=lambda item: -item[1])[:20]:
        console.print(f"failed {count} x: {reason}")
    return [
        ("load_users", str(USERS)),
        ("load_seconds_measured", f"{seconds:.1f}"),
        ("load_requests", str(requests)),
        ("load_requests_per_s", f"{requests / seconds:.2f}" if seconds > 0 else "0.00"),
        ("load_p95_ms_max", f"{p95_max:.0f}"),
        ("load_cpu_ms_per_request", f"{cpu_ms:.2f}"),
        ("load_errors", str(errors)),
        ("load_signin_p50_ms", f"{percentile(sign_in, 0.5):.0f}"),
        ("load_signin_p95_ms", f"{percentile(sign_in, 0.95):.0f}"),
    ]


def main() -> int:
    from rich.console import Console

    console = Console(highlight=False, width=max(100, shutil.get_terminal_size().columns))
    url = database_url(DATABASE, override="LOAD_DATABASE_URL")
    try:
        admin_connect(url).close()
    except Exception as error:
        where = urlsplit(url).hostname or "localhost"
        print(f"load: no PostgreSQL at {where} ({type(error).__name__}); nothing was run")
        return 1
    from bench.booking_http import free_port, start_server, stop_server, wait_until_ready

    folder = Path(tempfile.mkdtemp(prefix="imsclinic-load-"))
    recreate_database(url, create=True)
    server: subprocess.Popen[bytes] | None = None
    server_log = (folder / "server.log").open("wb")
    try:
        os.environ["DATABASE_URL"] = url
        os.environ["DJANGO_SETTINGS_MODULE"] = "imsclinic.settings"
        os.environ["DEBUG"] = "1"
        os.environ["BENCH_APPOINTMENTS"] = os.environ.get("LOAD_APPOINTMENTS", "250000")
        sys.path.insert(0, str(ROOT))
        import logging

        import django

        django.setup()
        logging.disable(logging.INFO)
        from django.db import connection

        from bench.load import seed

        plan = seed.build(USERS, console)
        connection.close()
        plan_path = folder / "plan.json"
        plan_path.write_text(json.dumps(plan))
        console.print(
            f"Seeded {plan['appointments_seeded']} visits, {len(plan['patients'])} patient "
            f"logins, charts of {plan['chart_sessions']} sessions, {plan['invoices']} invoices "
            f"in {plan['seed_s']} s; people: {plan['counts']}."
        )
        static_root = folder / "static"
        with console.status("Collecting static files…"):
            collect_static(url, static_root)
        page_cpu = folder / "page-cpu"
        page_cpu.mkdir()
        port = free_port()
        server = start_server(
            url,
            port,
            settings="bench.load.settings",
            extra_env=server_env(static_root, page_cpu),
            log=server_log,
            # The deployed configuration: its workers and threads for this machine's cores,
            # connections kept open between a person's pages, the access log written.
            config=ROOT / "deploy" / "gunicorn.conf.py",
        )
        wait_until_ready(port, server)
        meter = CpuMeter(server.pid, url)
        with console.status(f"{USERS} people for {SECONDS} s after they have signed in…"):
            figures = run_locust(port, folder, plan_path, meter)
        stop_server(server)
        server = None
        figures["page_cpu"] = page_cpu_summary(page_cpu)
        with console.status("Checking for overlaps and verifying the audit chain…"):
            overlaps, chain = check_database()
        connection.close()
    finally:
        if server is not None:
            stop_server(server)
        server_log.close()
        output = (folder / "server.log").read_text(errors="replace")
        recreate_database(url, create=False)
        shutil.rmtree(folder, ignore_errors=True)

    lines = report(figures, console)
    if "Traceback" in output:
        console.print(f"load: the server logged errors:\n{output[-4000:]}")
    if "Traceback" in figures["locust_log"]:
        console.print(f"load: locust said:\n{figures['locust_log'][-3000:]}")
    found = dict(lines)
    lines += [
        ("load_overlaps", str(overlaps)),
        ("load_audit_chain", chain),
        ("load_errors_goal", "met" if found["load_errors"] == "0" and overlaps == 0 else "missed"),
        ("load_p95_goal", "met" if float(found["load_p95_ms_max"]) <= P95_GOAL_MS else "missed"),
        (
            "load_cpu_goal",
            "met" if float(found["load_cpu_ms_per_request"]) <= CPU_GOAL_MS else "missed",
        ),
    ]
    sys.stdout.flush()
    for name, value in lines:
        print(f"{name}: {value}")  # plain lines that scripts and tests parse
    return 0


if __name__ == "__main__":
    sys.exit(main())
