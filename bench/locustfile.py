"""The load the harness drives the server with: one user class per scenario.

bench/harness.py runs ``locust --headless`` once per scenario, naming the class to use, and
hands it a plan (``BENCH_PLAN``: a JSON file with the queries, sample product and category ids
and, when the checkout scenario is available, the API tokens and the order endpoint). Every
response time is also written, unrounded, to ``BENCH_SAMPLES`` when locust stops: locust's own
CSV rounds to whole milliseconds, too coarse for a 2 ms baseline.

Users wait for nothing between requests (a closed loop): ``-u`` users keep ``-u`` requests in
flight, which the harness sets to the number of server workers.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import uuid
from collections import defaultdict

from locust import FastHttpUser, constant, events, task

PLAN = json.loads(open(os.environ["BENCH_PLAN"], encoding="utf-8").read()) if os.environ.get("BENCH_PLAN") else {}
_samples: dict[str, list[float]] = defaultdict(list)


@events.request.add_listener
def _record(name, response_time, exception, **_kwargs):
    if exception is None:
        _samples[name].append(response_time)


@events.quitting.add_listener
def _dump(environment, **_kwargs):
    path = os.environ.get("BENCH_SAMPLES")
    if path:
        with open(path, "w", encoding="utf-8") as fh:
            json.dump(_samples, fh)


def _weighted(pairs: list[list]) -> list[str]:
    return [text for text, weight in pairs for _ in range(int(weight))]


class _BenchUser(FastHttpUser):
    abstract = True
    wait_time = constant(0)

    def on_start(self):
        self.rng = random.Random()  # noqa: S311 - picking the next request, not a secret


class SearchUser(_BenchUser):
    """/api/v1/search with the plan's mix of Chinese queries, first page, relevance order."""

    @task
    def search(self):
        q = self.rng.choice(_weighted(PLAN["search_queries"]))
        self.client.get("/api/v1/search", params={"q": q}, name="/api/v1/search")


class SuggestUser(_BenchUser):
    """/api/v1/search/suggest with what a person has typed so far (one or two characters, a word)."""

    @task
    def suggest(self):
        q = self.rng.choice(PLAN["suggest_queries"])
        self.client.get("/api/v1/search/suggest", params={"q": q}, name="/api/v1/search/suggest")


class PageUser(_BenchUser):
    """A product page, a category page and /healthz (the baseline), in equal parts."""

    @task
    def product(self):
        self.client.get(f"/shop/product/{self.rng.choice(PLAN['product_ids'])}", name="product page")

    @task
    def category(self):
        self.client.get(f"/shop/category/{self.rng.choice(PLAN['category_ids'])}", name="category page")

    @task
    def healthz(self):
        self.client.get("/healthz", name="/healthz")


_tokens = itertools.count()


class CheckoutUser(_BenchUser):
    """SCENARIO HOOK (checkout): used only when the harness found a JSON order-create endpoint.

    Each user is one signed-in shopper (an API token from the plan) placing one-unit orders of
    the plan's products through ``POST /api/v1/orders`` (body and ``Idempotency-Key`` header as
    shop/api_orders.py reads them). The 409 ``out_of_stock`` refusal is the expected answer once
    a product sells out under contention, not a failure.
    """

    @task
    def checkout(self):
        checkout = PLAN["checkout"]
        if not hasattr(self, "token"):
            self.token = checkout["tokens"][next(_tokens) % len(checkout["tokens"])]
        chosen = self.rng.sample(checkout["product_ids"], self.rng.randint(1, 2))
        body = {"items": [{"product_id": pid, "quantity": 1} for pid in chosen], "recipient_name": "压测用户",
                "recipient_phone": "13800000000", "address": "重庆市巫山县压测路1号"}
        headers = {"Authorization": f"Bearer {self.token}", "Idempotency-Key": uuid.uuid4().hex}
        with self.client.post(checkout["url"], json=body, headers=headers, name="checkout",
                              catch_response=True) as response:
            if response.status_code in (200, 201):
                response.success()
            elif response.status_code == 409 and "out_of_stock" in (response.text or ""):
                response.success()
            else:
                response.failure(f"HTTP {response.status_code}: {(response.text or '')[:200]}")
