"""The task worker (`manage.py db_worker`) seals the audit log and writes the daily checkpoint."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import OperationalError

from imsclinic.core import sealer as sealer_module
from imsclinic.core.audit import audit_record
from imsclinic.core.models import Action, AuditSeal
from imsclinic.core.sealer import AuditSealer
from imsclinic.core.tests.audit_processes import ROOT, WAIT_S, check, finish, start


def start_worker(url: str, checkpoints: Path, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DEBUG": "1",
        "PYTHONUNBUFFERED": "1",
        "AUDIT_CHECKPOINT_FILE": str(checkpoints),
        "AUDIT_SEAL_INTERVAL_SECONDS": "1",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    command = [sys.executable, "manage.py", "db_worker", "--no-reload", "--no-startup-delay"]
    with log.open("wb") as out:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)


@pytest.mark.django_db(transaction=True)
def test_the_worker_seals_rows_as_they_come_and_writes_a_checkpoint_when_it_starts(
    database_url: str, tmp_path: Path
) -> None:
    checkpoints, log = tmp_path / "checkpoints.log", tmp_path / "worker.log"
    finish(start(database_url, "write", "20"))
    worker = start_worker(database_url, checkpoints, log)
    try:
        finish(start(database_url, "write", "30"))
        deadline = time.monotonic() + WAIT_S
        while (counts := check(database_url))["seals"] < 50:
            assert worker.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.5)
        first = json.loads(checkpoints.read_text().splitlines()[0])
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=WAIT_S)
    assert counts == {"rows": 50, "seals": 50, "sealed_rows": 50, "verified": 50, "break": None}
    assert first["reason"] == "daily"
    assert first["rows"] >= 20
    assert worker.returncode == 0, log.read_text()
    assert "Traceback" not in log.read_text()


@pytest.mark.django_db(transaction=True)  # the worker closes the connection it used
def test_a_one_off_batch_run_of_the_worker_runs_tasks_only(settings) -> None:
    audit_record(actor=None, action=Action.VIEW, object_type="patient")
    call_command("db_worker", "--batch", "--no-reload", "--no-startup-delay", verbosity=0)
    assert not AuditSeal.objects.exists()
    assert not Path(settings.AUDIT_CHECKPOINT_FILE).exists()


def test_the_sealer_logs_a_failure_and_tries_again(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, settings
) -> None:
    settings.AUDIT_SEAL_INTERVAL_SECONDS = 0
    sealer = AuditSealer()
    passes: list[int] = []

    def seal_pending() -> int:
        passes.append(1)
        if len(passes) == 1:
            raise OperationalError("the database went away")
        sealer.stop()
        return 0

    monkeypatch.setattr(sealer_module, "seal_pending", seal_pending)
    monkeypatch.setattr(sealer_module, "checkpoint_due", lambda every: False)
    sealer.run()
    assert len(passes) == 2
    assert "The audit sealer failed; it tries again in 0 s" in caplog.text
