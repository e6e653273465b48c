"""The simulated people of `make load`: visitors, patients, the front desk, physios, the owner.

Run by locust in a process of its own (gevent), started by `python -m bench.load`; nothing
here imports Django. LOAD_PLAN names the JSON plan the seed wrote (bench/load/seed.py): the
accounts, their TOTP secrets and API tokens, and what each person opens. Each person has an
account of their own and signs in once, through the real pages (allauth's login, and for
staff the second-factor page with a code computed here from the account's secret).

Every request has a name per page. Requests named "sign in: …" are recorded for the whole run;
the others only in the measured period, which begins when everyone has signed in (the time is
written to LOAD_MARKS, where the orchestrator starts counting the server's CPU) and ends when
the run stops. The figures go to LOAD_RESULTS as JSON when locust quits.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import html
import itertools
import json
import os
import random
import re
import struct
import time
from collections import defaultdict
from typing import Any

import gevent
from locust import HttpUser, between, events, task

PLAN: dict[str, Any] = json.loads(open(os.environ["LOAD_PLAN"]).read())  # noqa: SIM115
RESULTS = os.environ["LOAD_RESULTS"]
MARKS = os.environ["LOAD_MARKS"]
EXPECTED = sum(PLAN["counts"].values())
TOTP_PERIOD = 30
FRESH_S = 10  # a code with less of its period left is not typed
SIGN_IN = "sign in"
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
HIDDEN = re.compile(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)"')
CONFIRM_LINK = re.compile(r'href="(/portal/book/confirm/\?[^"]+)"')
BOOKED = re.compile(r"/portal/visits/(\d+)/booked/")


class Figures:
    """What every request took, by name; only the measured period's, apart from sign-ins."""

    def __init__(self) -> None:
        self.millis: dict[str, list[float]] = defaultdict(list)
        self.failures: dict[str, int] = defaultdict(int)
        self.server_errors = 0
        self.reasons: dict[str, int] = defaultdict(int)
        self.statuses: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
        self.ready = 0
        self.started: float | None = None
        self.stopped: float | None = None

    def measuring(self) -> bool:
        return self.started is not None and self.stopped is None

    def mark(self, what: str) -> None:
        moment = time.time()
        if what == "start":
            self.started = moment
        else:
            self.stopped = moment
        with open(MARKS, "a") as marks:
            marks.write(f"{what} {moment}\n")

    def one_ready(self) -> None:
        self.ready += 1
        if self.ready >= EXPECTED and self.started is None:
            self.mark("start")


FIGURES = Figures()


@events.request.add_listener
def record(
    request_type: str,
    name: str,
    response_time: float,
    response_length: int,
    response: Any = None,
    exception: BaseException | None = None,
    **_kwargs: Any,
) -> None:
    if not (name.startswith(SIGN_IN) or FIGURES.measuring()):
        return
    FIGURES.millis[name].append(response_time)
    status = getattr(response, "status_code", 0) or 0
    FIGURES.statuses[name][status] += 1
    if exception is not None:
        FIGURES.failures[name] += 1
        FIGURES.reasons[f"{name}: {exception!r}"[:300]] += 1
    if status >= 500:
        FIGURES.server_errors += 1


@events.test_stopping.add_listener
def stopping(**_kwargs: Any) -> None:
    if FIGURES.stopped is None:
        FIGURES.mark("stop")


@events.quitting.add_listener
def write_results(**_kwargs: Any) -> None:
    if FIGURES.stopped is None:
        FIGURES.mark("stop")
    with open(RESULTS, "w") as out:
        json.dump(
            {
                "millis": FIGURES.millis,
                "failures": FIGURES.failures,
                "statuses": {k: dict(v) for k, v in FIGURES.statuses.items()},
                "server_errors": FIGURES.server_errors,
                "reasons": FIGURES.reasons,
                "started": FIGURES.started,
                "stopped": FIGURES.stopped,
                "ready": FIGURES.ready,
            },
            out,
        )


# ---- second factor ---------------------------------------------------------------------------

LAST_COUNTER: dict[str, int] = {}


def totp_code(secret: str, email: str) -> str:
    """Return the account's code now (RFC 6238, SHA-1, 6 digits, 30 s), never one used before.

    allauth accepts a code once per period, and only in its period: a second sign-in within
    the same period, or a code about to change, waits for the next one.
    """
    left = TOTP_PERIOD - time.time() % TOTP_PERIOD
    if left < FRESH_S:
        # As a person does when the code is about to change: wait for the next one, so that
        # it is still current when a busy server checks it.
        gevent.sleep(left + 0.05)
    counter = int(time.time()) // TOTP_PERIOD
    if LAST_COUNTER.get(email, -1) >= counter:
        gevent.sleep((counter + 1) * TOTP_PERIOD - time.time() + 0.05)
        counter = int(time.time()) // TOTP_PERIOD
    LAST_COUNTER[email] = counter
    key = base64.b32decode(secret)
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"


# ---- the people --------------------------------------------------------------------------------

NUMBERS = {kind: itertools.count() for kind in ("visitor", "patient", "desk", "physio", "owner")}
KIND_OCTET = {"visitor": 1, "patient": 2, "desk": 3, "physio": 4, "owner": 5}


def fixed(kind: str) -> int:
    return int(PLAN["counts"][kind])


def future_day(low: int, high: int) -> str:
    today = dt.date.fromisoformat(PLAN["today"])
    return (today + dt.timedelta(days=random.randint(low, high))).isoformat()


class Person(HttpUser):
    abstract = True
    wait_time = between(1, 3)
    kind = ""

    def on_start(self) -> None:
        self.number = next(NUMBERS[self.kind])
        # Each person's own address, as the proxy in front of a clinic's server names it.
        self.client.headers["X-Forwarded-For"] = (
            f"10.{KIND_OCTET[self.kind]}.{self.number // 250}.{self.number % 250 + 1}"
        )
        try:
            self.sign_in()
        finally:
            FIGURES.one_ready()

    def sign_in(self) -> None:
        pass

    def page(self, url: str, name: str, **params: Any) -> Any:
        """Open a page; anything but 200 (a redirect too) is a failure."""
        with self.client.get(
            url, params=params or None, name=name, allow_redirects=False, catch_response=True
        ) as answer:
            if answer.status_code != 200:
                answer.failure(f"{answer.status_code} from {url}")
            return answer

    def form(self, url: str, data: dict[str, Any], name: str, ok: tuple[int, ...]) -> Any:
        """Post a form with the CSRF token of the page it was on (read from the cookie jar)."""
        with self.client.post(
            url,
            data=data,
            name=name,
            allow_redirects=False,
            catch_response=True,
            headers={"Referer": f"{self.host}{url}"},
        ) as answer:
            if answer.status_code not in ok:
                answer.failure(f"{answer.status_code} from POST {url}")
            return answer

    def password_sign_in(self, email: str, then: str) -> None:
        login = self.page("/accounts/login/", f"{SIGN_IN}: login page")
        token = CSRF.search(login.text)
        answer = self.form(
            "/accounts/login/",
            {
                "login": email,
                "password": PLAN["password"],
                "csrfmiddlewaretoken": token.group(1) if token else "",
            },
            f"{SIGN_IN}: password",
            ok=(302,),
        )
        if then not in answer.headers.get("Location", ""):
            raise RuntimeError(f"sign-in of {email} went to {answer.headers.get('Location')}")

    def staff_sign_in(self, account: dict[str, str]) -> None:
        self.password_sign_in(account["email"], "/accounts/2fa/authenticate/")
        page = self.page("/accounts/2fa/authenticate/", f"{SIGN_IN}: code page")
        # A code whose period ended on its way through a busy server is refused (the form
        # again, 200): the person types the next one, once.
        for ok in ((200, 302), (302,)):
            token = CSRF.search(page.text)
            answer = self.form(
                "/accounts/2fa/authenticate/",
                {
                    "code": totp_code(account["secret"], account["email"]),
                    "csrfmiddlewaretoken": token.group(1) if token else "",
                },
                f"{SIGN_IN}: code",
                ok=ok,
            )
            if "/accounts/after-login/" in answer.headers.get("Location", ""):
                return
            page = answer
        raise RuntimeError(f"second factor of {account['email']} was refused")


class Visitor(Person):
    """Someone reading the public site before booking."""

    kind = "visitor"
    fixed_count = fixed("visitor")

    @task(3)
    def home(self) -> None:
        self.page("/", "home")

    @task(2)
    def what_is_ims(self) -> None:
        self.page("/what-is-ims/", "what is IMS")

    @task(2)
    def safety(self) -> None:
        self.page("/safety/", "safety")

    @task(2)
    def faq(self) -> None:
        self.page("/faq/", "faq")

    @task(2)
    def practitioners(self) -> None:
        self.page("/practitioners/", "practitioners")

    @task(1)
    def practitioner(self) -> None:
        number = random.randrange(len(PLAN["practitioners"]))
        self.page(f"/practitioners/bench-physio-{number}/", "practitioner")

    @task(2)
    def book(self) -> None:
        self.page("/book/", "public booking page")


class Patient(Person):
    """A returning patient: books, cancels and pays, on the portal and through the API."""

    kind = "patient"
    fixed_count = fixed("patient")

    def sign_in(self) -> None:
        self.account = PLAN["patients"][self.number % len(PLAN["patients"])]
        self.api = {"Authorization": f"Bearer {self.account['token']}"}
        self.slots: list[dict[str, Any]] = []
        self.api_visits: list[int] = []
        self.portal_visits: list[int] = []
        self.password_sign_in(self.account["email"], "/accounts/after-login/")

    def week(self) -> str:
        return future_day(PLAN["book_from_days"], PLAN["horizon_days"] - 8)

    @task(3)
    def portal_home(self) -> None:
        self.page("/portal/", "portal home")

    @task(3)
    def search_api(self) -> None:
        with self.client.get(
            "/api/v1/availability",
            params={"service": PLAN["service"], "start": self.week(), "days": 7},
            headers=self.api,
            name="api: slot search",
            catch_response=True,
        ) as answer:
            if answer.status_code != 200:
                answer.failure(f"{answer.status_code}")
                return
            self.slots = answer.json()["slots"]

    @task(2)
    def book_api(self) -> None:
        if not self.slots:
            return self.search_api()
        slot = self.slots.pop(random.randrange(len(self.slots)))
        body = {key: slot[key] for key in ("practitioner", "location", "start")}
        with self.client.post(
            "/api/v1/appointments",
            json={"service": PLAN["service"], **body},
            headers=self.api,
            name="api: book",
            catch_response=True,
        ) as answer:
            if answer.status_code == 201:
                self.api_visits.append(answer.json()["id"])
            elif answer.status_code == 409:
                answer.success()  # taken by someone else a moment before: the slot is gone
            else:
                answer.failure(f"{answer.status_code}: {answer.text[:200]}")

    @task(1)
    def cancel_api(self) -> None:
        if not self.api_visits:
            return
        visit = self.api_visits.pop(0)
        with self.client.post(
            f"/api/v1/appointments/{visit}/cancel",
            json={"reason": "Cannot come after all."},
            headers=self.api,
            name="api: cancel",
            catch_response=True,
        ) as answer:
            if answer.status_code != 200:
                answer.failure(f"{answer.status_code}: {answer.text[:200]}")

    @task(2)
    def book_portal(self) -> None:
        times = self.page(
            "/portal/book/",
            "portal book: times",
            service=PLAN["service"],
            location=random.choice(PLAN["locations"]),
            week=self.week(),
        )
        links = CONFIRM_LINK.findall(times.text)
        if not links:
            return
        confirm_url = html.unescape(random.choice(links))
        confirm = self.page(confirm_url, "portal book: confirm page")
        fields = {key: html.unescape(value) for key, value in HIDDEN.findall(confirm.text)}
        token = CSRF.search(confirm.text)
        if token is None or "start" not in fields:
            return
        fields["csrfmiddlewaretoken"] = token.group(1)
        answer = self.form("/portal/book/confirm/", fields, "portal book: book", ok=(302, 409))
        found = BOOKED.search(answer.headers.get("Location", ""))
        if found:
            self.portal_visits.append(int(found.group(1)))
            self.page(found.group(0), "portal book: booked page")

    @task(1)
    def cancel_portal(self) -> None:
        if not self.portal_visits:
            return
        visit = self.portal_visits.pop(0)
        url = f"/portal/visits/{visit}/cancel/"
        page = self.page(url, "portal cancel: page")
        token = CSRF.search(page.text)
        self.form(
            url,
            {
                "reason": "Cannot come after all.",
                "csrfmiddlewaretoken": token.group(1) if token else "",
            },
            "portal cancel: cancel",
            ok=(302,),
        )

    @task(1)
    def bills(self) -> None:
        self.page("/portal/billing/", "portal bills")


class FrontDesk(Person):
    """The front desk: the day and the week of each location, finding patients."""

    kind = "desk"
    fixed_count = fixed("desk")

    def sign_in(self) -> None:
        self.staff_sign_in(PLAN["desks"][self.number % len(PLAN["desks"])])

    @task(3)
    def day(self) -> None:
        self.page(
            "/staff/calendar/",
            "calendar day",
            location=random.choice(PLAN["locations"]),
            date=future_day(-3, 10),
        )

    @task(3)
    def week(self) -> None:
        self.page(
            "/staff/calendar/week/",
            "calendar week",
            location=random.choice(PLAN["locations"]),
            date=future_day(-7, 21),
        )

    @task(2)
    def patient_list(self) -> None:
        self.page("/staff/patients/", "patient list", q=f"Bench{random.randrange(500)}")

    @task(2)
    def patient(self) -> None:
        self.page(f"/staff/patients/{random.choice(PLAN['desk_patients'])}/", "patient page")


class Physio(Person):
    """An IMS physiotherapist: their day, charts and notes, what is left to chart."""

    kind = "physio"
    fixed_count = fixed("physio")

    def sign_in(self) -> None:
        self.account = PLAN["physios"][self.number % len(PLAN["physios"])]
        self.staff_sign_in(self.account)

    @task(3)
    def mine(self) -> None:
        self.page("/staff/calendar/mine/", "calendar mine")

    @task(2)
    def chart(self) -> None:
        patient = random.choice(self.account["patients"])
        self.page(f"/staff/patients/{patient}/chart/", "chart")

    @task(2)
    def long_chart(self) -> None:
        if not self.account["charts"]:
            return self.chart()
        course = random.choice(self.account["charts"])
        self.page(
            f"/staff/patients/{course['patient']}/chart/", f"chart: {course['sessions']} sessions"
        )

    @task(2)
    def note(self) -> None:
        if not self.account["charts"]:
            return self.todo()
        visit = random.choice(random.choice(self.account["charts"])["visits"])
        self.page(f"/staff/appointments/{visit}/session/", "needling note")

    @task(1)
    def todo(self) -> None:
        self.page("/staff/charting/todo/", "charting to-do")

    @task(1)
    def screening(self) -> None:
        self.page("/staff/screening/", "screening queue")


class Owner(Person):
    """The owner at the end of the day: the money and the audit log."""

    kind = "owner"
    fixed_count = fixed("owner")

    def sign_in(self) -> None:
        self.staff_sign_in(PLAN["owners"][self.number % len(PLAN["owners"])])

    @task(2)
    def day_sheet(self) -> None:
        self.page("/staff/billing/reports/day-sheet/", "report: day sheet")

    @task(2)
    def receivables(self) -> None:
        self.page("/staff/billing/reports/receivables/", "report: receivables")

    @task(2)
    def sales(self) -> None:
        self.page("/staff/billing/reports/sales/", "report: sales")

    @task(2)
    def audit(self) -> None:
        self.page("/staff/audit/", "audit log")
