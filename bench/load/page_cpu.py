"""The load server's Python CPU time per page, so the mix's cost can be split by page.

Only `bench/load/settings.py` puts this middleware first (outermost) in the stack, and only
when LOAD_PAGE_CPU names a folder: for each request it adds the thread's CPU time (the
middleware, the view and the template, which a TemplateResponse renders inside) and its wall
time to a line per request in that folder, one file per worker process. PostgreSQL's share
is not in it; `make load` measures that apart, for the whole mix.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

from django.http import HttpRequest, HttpResponse

_lock = threading.Lock()


class PageCpuMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.path = Path(os.environ["LOAD_PAGE_CPU"]) / f"cpu-{os.getpid()}.tsv"

    def __call__(self, request: HttpRequest) -> HttpResponse:
        cpu, wall = time.thread_time(), time.perf_counter()
        response = self.get_response(request)
        cpu, wall = time.thread_time() - cpu, time.perf_counter() - wall
        match = request.resolver_match
        name = (match.view_name if match else "") or request.path
        fields = (
            name,
            request.method,
            response.status_code,
            f"{cpu * 1000:.3f}",
            f"{wall * 1000:.3f}",
        )
        line = "\t".join(str(field) for field in fields) + "\n"
        with _lock, self.path.open("a") as out:
            out.write(line)
        return response


def summary(folder: Path) -> list[tuple[str, int, float, float, float]]:
    """(page, requests, CPU ms per request, wall ms per request, CPU s in all), costliest first."""
    totals: dict[str, list[float]] = {}
    for path in folder.glob("cpu-*.tsv"):
        for line in path.read_text().splitlines():
            name, method, _status, cpu, wall = line.split("\t")
            entry = totals.setdefault(f"{method} {name}", [0, 0.0, 0.0])
            entry[0] += 1
            entry[1] += float(cpu)
            entry[2] += float(wall)
    rows = [
        (name, int(count), cpu / count, wall / count, cpu / 1000)
        for name, (count, cpu, wall) in totals.items()
    ]
    return sorted(rows, key=lambda row: -row[4])
