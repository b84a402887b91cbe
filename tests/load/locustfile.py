"""The surge run's traffic (tests/load/surge.py drives it): a shop's mix of
browsing, searching, product pages, logins, checkouts and order reads, at a
fixed rate per simulated user, in three phases set by `SurgeShape`: the base
rate, ten times it, the base again.

Environment: GALLEY_SURGE_TOKENS (JSON list of access tokens of signed-up
customers), GALLEY_SURGE_LOGINS (JSON list of [email, password] of more accounts, to log
in with: one account's password is checked at most five times in 15
minutes),
GALLEY_SURGE_BASE (requests a second at base, default 50), and
GALLEY_SURGE_PHASE_SECONDS (default 60).
"""

import itertools
import json
import os
import random
import time
import uuid

import gevent

from locust import LoadTestShape, events, task
from locust.contrib.fasthttp import FastHttpUser

BASE = int(os.environ.get("GALLEY_SURGE_BASE", "50"))
PHASE = int(os.environ.get("GALLEY_SURGE_PHASE_SECONDS", "60"))
TOKENS = json.loads(os.environ.get("GALLEY_SURGE_TOKENS", "[]"))
LOGINS = json.loads(os.environ.get("GALLEY_SURGE_LOGINS", "[]"))
PRODUCTS = ["mug-blue-350", "mug-white-350", "dot-grid-notebook", "fountain-pen", "desk-organiser", "ink-blue-black"]
WORDS = ["mug", "pen", "blue", "notebook", "desk", "glass", "lamp", "tea"]
START = time.monotonic()
_tokens = itertools.cycle(TOKENS or [""])

# Every request's (phase, route, milliseconds, status, failed, second of the
# run it ended in), for surge.py's table.
RECORDS = []


def phase_now() -> str:
    elapsed = time.monotonic() - START
    return "base" if elapsed < PHASE else "surge" if elapsed < 2 * PHASE else "after"


@events.request.add_listener
def record(request_type, name, response_time, response_length, response=None, exception=None, **_):
    status = getattr(response, "status_code", 0) if response is not None else 0
    RECORDS.append((phase_now(), f"{request_type} {name}", response_time, status, exception is not None,
                    round(time.monotonic() - START, 3)))


@events.quitting.add_listener
def dump(environment, **_):
    path = os.environ.get("GALLEY_SURGE_RECORDS")
    if path:
        with open(path, "w") as f:
            json.dump(RECORDS, f)


class Shopper(FastHttpUser):
    # One request a second per user on average, the shape setting the rate by
    # the user count; the think time between them is random (exponential), as
    # a crowd of shoppers' is, so requests arrive as a Poisson stream. A fixed
    # one second kept each user on its start's phase: users started together
    # (450 at the surge's step) then sent together, bursts that queued on one
    # another and measured the bursts more than the server.
    def wait_time(self):
        return random.expovariate(1.0)

    def on_start(self):
        self.token = next(_tokens)
        self.auth = {"authorization": f"Bearer {self.token}"}
        # A shopper's first request, too, comes after a think time: locust
        # starts the surge's 450 new users within a millisecond, and without
        # it their 450 first requests left together, one burst at a rate no
        # crowd sends (RELIABILITY.md).
        gevent.sleep(self.wait_time())

    @task(35)
    def browse(self):
        self.client.get(f"/products?limit=20&category=kitchen", name="/products (browse)")

    @task(20)
    def search(self):
        self.client.get(f"/products?q={random.choice(WORDS)}&limit=20", name="/products?q= (search)")

    @task(25)
    def product_page(self):
        self.client.get(f"/products/{random.choice(PRODUCTS)}", name="/products/{id}")

    @task(2)
    def login(self):
        email, password = random.choice(LOGINS)
        self.client.post("/auth/login", json={"email": email, "password": password}, name="/auth/login")

    @task(8)
    def checkout(self):
        cart = {"items": [{"product_id": "surge-plenty", "quantity": 1}], "payment": {"token": "pm_card_visa"}}
        headers = dict(self.auth, **{"idempotency-key": f"surge-{uuid.uuid4().hex}"})
        self.client.post("/checkout", json=cart, headers=headers, name="/checkout")

    @task(10)
    def orders(self):
        self.client.get("/orders?limit=10", headers=self.auth, name="/orders")


class SurgeShape(LoadTestShape):
    """BASE users for PHASE seconds, 10 x BASE for PHASE, BASE for PHASE."""

    def tick(self):
        elapsed = self.get_run_time()
        if elapsed < PHASE:
            return BASE, BASE
        if elapsed < 2 * PHASE:
            return 10 * BASE, 10 * BASE
        if elapsed < 3 * PHASE:
            return BASE, 10 * BASE
        return None
