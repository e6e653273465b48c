"""Run the web server and the task worker together; Ctrl-C stops both.

`make run` calls this after migrating and loading the demo clinic. Each child runs in its
own process group, so a signal reaches the child and whatever it started (Django's
autoreloader keeps a second process) and nothing is left behind.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
GRACE_SECONDS = 10


def start(*args: str, site_url: str) -> subprocess.Popen[bytes]:
    """Start `manage.py <args>` in a process group of its own."""
    env = {
        **os.environ,
        "DEBUG": os.environ.get("DEBUG", "1"),
        "PYTHONUNBUFFERED": "1",
        # Links in the emails the worker prints point at the port the site is served on.
        "SITE_URL": os.environ.get("SITE_URL", site_url),
    }
    command = [sys.executable, str(ROOT / "manage.py"), *args]
    # Our own interpreter and manage.py with fixed arguments: nothing untrusted reaches here.
    return subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)  # noqa: S603


def signal_group(child: subprocess.Popen[bytes], signum: int) -> None:
    """Send a signal to the child's whole process group, if it is still there."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(child.pid, signum)


def stop_all(children: dict[str, subprocess.Popen[bytes]], signum: int) -> None:
    """Ask every child to stop, wait a little, then end whatever is still running."""
    for child in children.values():
        if child.poll() is None:
            signal_group(child, signum)
    deadline = time.monotonic() + GRACE_SECONDS
    for child in children.values():
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            signal_group(child, signal.SIGKILL)
            child.wait()
    # The autoreloader's inner process may outlive its parent by a moment; make sure.
    for child in children.values():
        signal_group(child, signal.SIGKILL)


def answers(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        return probe.connect_ex((HOST, port)) == 0


def main() -> int:
    port = int(os.environ.get("PORT", "8000"))
    url = f"http://{HOST}:{port}"
    stopping: list[int] = []

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stopping.append(signum)

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    children = {
        "web server": start("runserver", f"{HOST}:{port}", site_url=url),
        "task worker": start("db_worker", "--no-startup-delay", site_url=url),
    }
    announced = False
    started = time.monotonic()
    exit_code = 0
    while not stopping:
        gone = [(name, child) for name, child in children.items() if child.poll() is not None]
        if gone:
            name, child = gone[0]
            print(f"\nThe {name} stopped (exit code {child.returncode}); stopping the rest.")
            exit_code = child.returncode or 1
            break
        if not announced and answers(port):
            announced = True
            print(
                f"\nimsclinic is running at {url} — Ctrl-C stops the server and the worker\n"
                "Sign in with the demo logins printed above.\n",
                flush=True,
            )
        elif not announced and time.monotonic() - started > 60:
            print(f"The web server did not answer on {url} within a minute; stopping.")
            exit_code = 1
            break
        time.sleep(0.25)

    # Ctrl-C or SIGTERM both become SIGTERM for the children: the worker finishes its task
    # on either, and SIGTERM spares a child that is still starting a KeyboardInterrupt trace.
    stop_all(children, signal.SIGTERM)
    if stopping:
        print("Stopped the web server and the task worker.")
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
