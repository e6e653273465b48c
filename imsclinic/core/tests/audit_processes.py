"""Audit writers, sealers and a checker in processes of their own, for the sealing tests.

    python -m imsclinic.core.tests.audit_processes write COUNT
    python -m imsclinic.core.tests.audit_processes seal [--batch N] [--until ROWS]
                                                       [--stall-after ROWS]
    python -m imsclinic.core.tests.audit_processes check

The database is DATABASE_URL's. `write` commits each row in its own transaction, as page
views do. `seal --until` seals again and again until the chain holds that many rows;
`--stall-after` hangs inside the batch that hashes that many rows, its transaction open,
after printing "stalled", for the test to kill it. A sealer prints "sealing" as it starts.
`check` prints the numbers of rows, seals and sealed rows, and the result of walking the
chain, as JSON. Tests start these with `start` and read them with `finish`, `stalled` and
`check`, below.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]
MODULE = "imsclinic.core.tests.audit_processes"
UNTIL_WITHIN_S = 90.0
WAIT_S = 120


def _write(count: int) -> None:
    from imsclinic.core.audit import audit_record
    from imsclinic.core.models import Action

    for n in range(count):
        audit_record(
            actor=None,
            action=Action.VIEW,
            object_type="patient",
            object_id=n,
            detail={"writer": os.getpid(), "n": n},
        )


def _seal(batch: int, until: int | None, stall_after: int | None) -> None:
    from imsclinic.core.audit import chain_head, seal_pending
    from imsclinic.core.models import AuditSeal

    if stall_after is not None:
        hashed = 0
        real = AuditSeal.compute_hash

        def compute_hash(**kwargs: Any) -> str:
            nonlocal hashed
            hashed += 1
            if hashed == stall_after:
                print("stalled", flush=True)
                threading.Event().wait()  # until killed
            return real(**kwargs)

        AuditSeal.compute_hash = staticmethod(compute_hash)  # type: ignore[method-assign]
    print("sealing", flush=True)
    deadline = time.monotonic() + UNTIL_WITHIN_S
    while True:
        seal_pending(batch_size=batch)
        if until is None or chain_head().rows >= until:
            return
        if time.monotonic() > deadline:
            sys.exit(f"the chain never reached {until} rows")
        time.sleep(0.02)


def _check() -> None:
    from imsclinic.core.audit import ChainBreak, verify_chain
    from imsclinic.core.models import AuditEvent, AuditSeal

    walked = list(verify_chain())
    broken = [item for item in walked if isinstance(item, ChainBreak)]
    print(
        json.dumps(
            {
                "rows": AuditEvent.objects.count(),
                "seals": AuditSeal.objects.count(),
                "sealed_rows": AuditSeal.objects.values("event").distinct().count(),
                "verified": len(walked) - len(broken),
                "break": broken[0].reason if broken else None,
            }
        )
    )


def start(url: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", MODULE, *args],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url, "DEBUG": "1", "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def stalled(sealer: subprocess.Popen[str]) -> bool:
    """Wait for a sealer started with --stall-after to stall inside its batch."""
    assert sealer.stdout is not None
    return [sealer.stdout.readline().strip() for _ in range(2)] == ["sealing", "stalled"]


def finish(process: subprocess.Popen[str]) -> str:
    out, err = process.communicate(timeout=WAIT_S)
    assert process.returncode == 0, err[-3000:]
    return out


def check(url: str) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(finish(start(url, "check")))
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("write").add_argument("count", type=int)
    sealer = commands.add_parser("seal")
    sealer.add_argument("--batch", type=int, default=500)
    sealer.add_argument("--until", type=int)
    sealer.add_argument("--stall-after", type=int)
    commands.add_parser("check")
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "imsclinic.settings")
    import django

    django.setup()
    if args.command == "write":
        _write(args.count)
    elif args.command == "seal":
        _seal(args.batch, args.until, args.stall_after)
    else:
        _check()


if __name__ == "__main__":
    main()
