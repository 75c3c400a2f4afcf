"""The 8:30 rush (issue 12): families log in, open the dashboard and the planning, book a day
and cancel it, and buy tickets with the demo payment provider.

Run by bench/rush/run.py (headless, against 127.0.0.1 only). Environment:
- RUSH_DATA: the JSON written by prepare.py (one account per simulated user);
- RUSH_LOGIN: "password" (each user logs in with the form: PBKDF2, ~0.3 s of CPU each) or
  "session" (already logged in, as a family coming back within the session's life);
- RUSH_FAILURES: a file where each failed request is written as `<unix time> <name> <status>`
  (run.py counts them per fault window).
"""

import datetime
import itertools
import json
import os
import random
import re
import time
import uuid

from locust import FastHttpUser, between, events, task

DATA = json.load(open(os.environ["RUSH_DATA"]))
ACCOUNTS = itertools.count()
BOOK = re.compile(r'name="book" value="(\d+:\d+:[\d-]+)"')
CANCEL = re.compile(r'name="cancel" value="(\d+)"')
TICKET_TYPE = re.compile(r'name="ticket_type" value="(\d+)"')
DEMO_SESSION = re.compile(r"/famille/paiement/demo/([^/]+)/")
_failures = open(os.environ["RUSH_FAILURES"], "a", buffering=1) if os.environ.get("RUSH_FAILURES") else None


@events.request.add_listener
def _record_failure(request_type, name, response_time, response_length, response=None, exception=None,
                    **kwargs):
    if exception is not None and _failures is not None:
        status = getattr(response, "status_code", 0) if response is not None else 0
        _failures.write(f"{time.time():.3f} {name} {status}\n")


class Family(FastHttpUser):
    wait_time = between(2, 6)  # a parent reads the page before the next click
    connection_timeout = 30.0
    network_timeout = 60.0

    def on_start(self):
        self.account = DATA["users"][next(ACCOUNTS) % len(DATA["users"])]
        self.month = None
        self.logged_in = False
        if os.environ.get("RUSH_LOGIN", "password") == "session":
            self.client.cookiejar.set_cookie(_cookie("sessionid", self.account["session"]))
            self.logged_in = True
        else:
            self.log_in()

    def log_in(self):
        """Like a parent: a busy page (503) means trying again after a moment (the next task)."""
        page = self.client.get("/famille/connexion/", name="login page")
        if page.status_code != 200:
            return
        with self.client.post("/famille/connexion/", name="login",
                              data={"username": self.account["email"], "password": DATA["password"],
                                    "csrfmiddlewaretoken": self._csrf()},
                              headers={"Referer": self.host + "/famille/connexion/"},
                              allow_redirects=False, catch_response=True) as response:
            if response.status_code == 302:
                self.logged_in = True
            else:
                response.failure(f"login answered {response.status_code}")

    def _csrf(self):
        for cookie in self.client.cookiejar:
            if cookie.name == "csrftoken":
                return cookie.value
        return ""

    def _post(self, path, data, name, htmx=False, **kwargs):
        headers = {"X-CSRFToken": self._csrf(), "Referer": self.host + path}
        if htmx:
            headers["HX-Request"] = "true"
        return self.client.post(path, data=data, headers=headers, name=name, **kwargs)

    @task(3)
    def dashboard(self):
        if not self.logged_in:
            return self.log_in()
        self.client.get("/famille/", name="dashboard")

    @task(4)
    def planning_book_and_cancel(self):
        if not self.logged_in:
            return self.log_in()
        if self.month is None:
            today = datetime.date.today()
            self.month = (today.replace(day=1) + datetime.timedelta(days=32)).strftime("%Y-%m")
        response = self.client.get(f"/famille/planning/?mois={self.month}", name="planning")
        cells = BOOK.findall(response.text or "")
        if not cells:
            return
        cell = random.choice(cells)
        data = {"scope": "family", "mois": self.month}
        answer = self._post("/famille/planning/clic/", {**data, "book": cell}, "book a day", htmx=True)
        booking = CANCEL.findall(answer.text or "")
        if booking and random.random() < 0.5:  # half the parents change their mind
            self._post("/famille/planning/clic/", {**data, "cancel": random.choice(booking)}, "cancel a day",
                       htmx=True)

    @task(1)
    def buy_tickets(self):
        if not self.logged_in:
            return self.log_in()
        page = self.client.get("/famille/porte-monnaie/acheter/", name="buy page")
        found = TICKET_TYPE.search(page.text or "")
        if not found:
            return
        with self._post("/famille/porte-monnaie/acheter/",
                        {"ticket_type": found.group(1), "quantity": "10", "token": str(uuid.uuid4())},
                        "buy: start", allow_redirects=False, catch_response=True) as response:
            location = response.headers.get("Location", "") if response.status_code == 302 else ""
            session = DEMO_SESSION.search(location)
            if not session:
                response.failure(f"no demo checkout ({response.status_code})")
                return
        demo = f"/famille/paiement/demo/{session.group(1)}/"
        self._post(demo, {"outcome": "paid"}, "buy: pay (demo) and return")


def _cookie(name, value):
    from http.cookiejar import Cookie

    return Cookie(0, name, value, None, False, "127.0.0.1", False, False, "/", True, False, None, False,
                  None, None, {})
