"""`make run` serves the demo clinic, runs the task worker beside it, and Ctrl-C stops both."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# `make run` uses SQLite: these run in the SQLite pass only (the PostgreSQL pass leaves them out).
pytestmark = pytest.mark.sqlite_pass


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def processes_using(marker: str) -> list[str]:
    """Return the command lines of live processes whose environment mentions `marker`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if marker.encode() in (entry / "environ").read_bytes():
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
                found.append(f"{entry.name}: {cmdline}")
        except OSError:
            continue
    return found


def fetch(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=5) as response:  # only our own loopback server
        return response.status, response.read().decode()


class MakeRun:
    """One `make run` in its own process group, as a terminal would start it."""

    def __init__(self, tmp_path: Path, port: int, log_name: str) -> None:
        self.url = f"http://127.0.0.1:{port}/"
        self.log = tmp_path / log_name
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("PYTEST", "DJANGO_SETTINGS", "MAKE", "MFLAGS"))
        }
        env.update(
            DATABASE_URL=f"sqlite:///{tmp_path / 'run.sqlite3'}",
            AUDIT_CHECKPOINT_FILE=str(tmp_path / "audit-checkpoints.log"),
            PORT=str(port),
            TERM="dumb",
        )
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                ["make", "--no-print-directory", "run"],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_until_it_answers(self, timeout: float = 150) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"make run exited early ({self.process.returncode}):\n{self.output()}")
            try:
                status, body = fetch(self.url)
                if status == 200:
                    return body
            except OSError:
                pass
            time.sleep(0.5)
        pytest.fail(f"make run did not answer on {self.url} in {timeout} s:\n{self.output()}")

    def press_ctrl_c(self) -> int:
        # A terminal sends SIGINT to the whole foreground process group.
        os.killpg(self.process.pid, signal.SIGINT)
        try:
            return self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            pytest.fail(f"make run did not stop within 30 s of Ctrl-C:\n{self.output()}")

    def kill(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


@dataclass
class FirstRun:
    folder: Path
    port: int
    home: str
    output: str
    worker_seen: bool
    leftovers: list[str]
    checkpoints: list[str]


@pytest.fixture(scope="module")
def first_run(tmp_path_factory: pytest.TempPathFactory) -> FirstRun:
    """Start `make run` on a fresh database, load the home page, then press Ctrl-C."""
    folder = tmp_path_factory.mktemp("make-run")
    port = free_port()
    run = MakeRun(folder, port, "first.log")
    try:
        home = run.wait_until_it_answers()
        # The banner comes once the server answers; give it a moment to be written.
        deadline = time.monotonic() + 10
        while "imsclinic is running" not in run.output() and time.monotonic() < deadline:
            time.sleep(0.2)
        worker_seen = any("db_worker" in cmd for cmd in processes_using(str(folder)))
        # The worker's audit sealer writes a checkpoint as it starts (there is none yet).
        checkpoints = folder / "audit-checkpoints.log"
        while time.monotonic() < deadline + 30:
            if checkpoints.exists() and checkpoints.read_text().endswith("\n"):
                break
            time.sleep(0.2)
        run.press_ctrl_c()
    finally:
        run.kill()
    time.sleep(0.5)
    written = checkpoints.read_text().splitlines() if checkpoints.exists() else []
    return FirstRun(
        folder, port, home, run.output(), worker_seen, processes_using(str(folder)), written
    )


def test_make_run_serves_the_demo_clinic_and_prints_the_address_and_logins(
    first_run: FirstRun,
) -> None:
    assert "Cedar IMS Physiotherapy" in first_run.home
    assert f"imsclinic is running at http://127.0.0.1:{first_run.port}" in first_run.output
    assert "owner@cedarims.test" in first_run.output
    assert "patient@example.com" in first_run.output


def test_make_run_starts_the_task_worker_beside_the_web_server(first_run: FirstRun) -> None:
    assert first_run.worker_seen


def test_make_run_seals_the_audit_log_in_its_task_worker(first_run: FirstRun) -> None:
    assert len(first_run.checkpoints) == 1, first_run.output
    assert json.loads(first_run.checkpoints[0])["reason"] == "daily"


def test_ctrl_c_stops_the_web_server_and_the_task_worker(first_run: FirstRun) -> None:
    assert first_run.leftovers == [], f"still running after Ctrl-C: {first_run.leftovers}"
    assert "Stopped the web server and the task worker." in first_run.output


def test_a_second_make_run_reuses_the_database_and_creates_nothing_new(
    first_run: FirstRun,
) -> None:
    second = MakeRun(first_run.folder, free_port(), "second.log")
    try:
        second.wait_until_it_answers(timeout=60)
        second.press_ctrl_c()
    finally:
        second.kill()
    assert "nothing new to create" in second.output()
    assert processes_using(str(first_run.folder)) == []
