"""The circuit breaker and the rate limiter, on the real Redis of the test
settings (shared by processes), and through the fetch task."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from enrichment.demo.fake_vendors import Reply
from enrichment.vendors.circuit import CLOSED, HALF_OPEN, OPEN, CircuitBreaker, circuit_states
from enrichment.vendors.models import ExternalRecord
from enrichment.vendors.ratelimit import RateLimiter, vendor_limit
from enrichment.vendors.tasks import fetch_vendor_data
from tests.enrichment.external_fixtures import make_customer

ROOT = Path(__file__).resolve().parents[3]


# -- circuit breaker --------------------------------------------------------------------------
def test_the_circuit_opens_after_n_failures_half_opens_for_one_probe_and_closes_on_success():
    breaker = CircuitBreaker("clearbit", failure_threshold=3, cooldown=0.3)
    for _ in range(2):
        breaker.record_failure()
    assert breaker.state().state == CLOSED and breaker.allow()
    breaker.record_success()  # a success resets the count: failures must be consecutive
    for _ in range(3):
        breaker.record_failure()
    state = breaker.state()
    assert (state.state, state.failures) == (OPEN, 3) and 0 < state.retry_in <= 0.3
    assert not breaker.allow()
    time.sleep(0.35)
    assert breaker.state().state == HALF_OPEN
    other_worker = CircuitBreaker("clearbit", failure_threshold=3, cooldown=0.3)
    assert breaker.allow() is True  # the probe
    assert other_worker.allow() is False  # only one probe at a time
    breaker.record_success()
    assert other_worker.state().state == CLOSED and other_worker.allow()


def test_a_failed_probe_opens_the_circuit_again():
    breaker = CircuitBreaker("crunchbase", failure_threshold=1, cooldown=0.2)
    breaker.record_failure()
    time.sleep(0.25)
    assert breaker.allow()
    breaker.record_failure()
    assert breaker.state().state == OPEN and not breaker.allow()


def test_circuit_states_are_readable_for_metrics():
    CircuitBreaker("newsapi", failure_threshold=1, cooldown=60).record_failure()
    states = circuit_states()
    assert states["newsapi"].state == OPEN and states["clearbit"].state == CLOSED
    assert set(states) == {"clearbit", "peopledatalabs", "crunchbase", "newsapi"}


@pytest.mark.django_db
def test_an_open_circuit_skips_the_call_and_a_probe_closes_it(vendors_on, settings):
    settings.EXTERNAL_CIRCUIT_FAILURES = 2
    settings.EXTERNAL_CIRCUIT_COOLDOWN_SECONDS = 0.5
    settings.EXTERNAL_MAX_RETRIES = 0
    settings.EXTERNAL_EAGER_MAX_WAIT_SECONDS = 0  # eager: store the skip, do not wait
    vendors_on.script("clearbit", Reply(503, {"error": {"type": "api_error"}}), Reply(503, {"error": {"type": "api_error"}}))
    first, second, third = (make_customer(domain=f"c{i}.com", name=f"C{i}") for i in range(3))
    for customer in (first, second):
        assert fetch_vendor_data.delay(customer.pk, "clearbit").get() == "error"
    assert CircuitBreaker("clearbit").state().state == OPEN
    assert fetch_vendor_data.delay(third.pk, "clearbit").get() == "error"
    record = ExternalRecord.objects.get(customer=third, vendor="clearbit")
    assert "circuit open" in record.error and record.attempts == 0
    assert len(vendors_on.calls_to("clearbit")) == 2  # no call while open
    time.sleep(0.55)
    assert fetch_vendor_data.delay(third.pk, "clearbit").get() == "ok"  # the half-open probe
    assert CircuitBreaker("clearbit").state().state == CLOSED
    assert len(vendors_on.calls_to("clearbit")) == 3


@pytest.mark.django_db
def test_404_and_429_do_not_count_towards_the_circuit(vendors_on, settings):
    settings.EXTERNAL_CIRCUIT_FAILURES = 1
    settings.EXTERNAL_MAX_RETRIES = 0
    vendors_on.script("clearbit", Reply(404, {"error": {"type": "unknown_record"}}), Reply(429, {"error": {"type": "rate_limit"}}))
    customer = make_customer()
    fetch_vendor_data.delay(customer.pk, "clearbit", True).get()
    fetch_vendor_data.delay(customer.pk, "clearbit", True).get()
    assert CircuitBreaker("clearbit").state().state == CLOSED


# -- rate limiter ----------------------------------------------------------------------------
def test_the_vendor_limits_come_from_settings(settings):
    assert vendor_limit("clearbit") == (600, 60)
    assert vendor_limit("crunchbase") == (200, 60)
    settings.NEWSAPI_RATE_LIMIT, settings.NEWSAPI_RATE_WINDOW_SECONDS = 7, 3600
    assert vendor_limit("newsapi") == (7, 3600)


def test_the_limit_holds_and_the_window_resets():
    limiter = RateLimiter("test-vendor", limit=3, window=1)
    decisions = [limiter.acquire() for _ in range(5)]
    assert [d.allowed for d in decisions] == [True, True, True, False, False]
    assert 0 < decisions[-1].retry_after <= 1
    time.sleep(decisions[-1].retry_after + 0.05)
    assert limiter.acquire().allowed


def test_a_block_holds_every_caller_for_its_duration():
    limiter = RateLimiter("test-vendor", limit=100, window=60)
    limiter.block(0.3)
    decision = RateLimiter("test-vendor", limit=100, window=60).acquire()
    assert not decision.allowed and 0 < decision.retry_after <= 0.3
    time.sleep(0.35)
    assert limiter.acquire().allowed


def test_the_in_process_fallback_without_redis(settings):
    settings.CACHES = {
        **settings.CACHES,
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "rl-test"},
    }
    limiter = RateLimiter("test-vendor", limit=2, window=60)
    assert [limiter.acquire().allowed for _ in range(3)] == [True, True, False]
    breaker = CircuitBreaker("test-vendor", failure_threshold=1, cooldown=60)
    breaker.record_failure()
    assert not breaker.allow()


HAMMER = """
import json, os, sys, time, django
django.setup()
from enrichment.vendors.ratelimit import RateLimiter
limiter = RateLimiter("hammered", limit=int(sys.argv[1]), window=30)
print("ready", flush=True)
sys.stdin.readline()  # both processes start hammering when the test says go
allowed = sum(1 for _ in range(int(sys.argv[2])) if limiter.acquire().allowed)
print(json.dumps({"allowed": allowed}))
"""


@pytest.mark.slow
def test_the_limit_holds_across_two_processes():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "REDIS_URL": django_settings.REDIS_URL}
    RateLimiter("hammered").reset()
    limit, per_process = 150, 400
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", HAMMER, str(limit), str(per_process)],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    try:
        for p in procs:
            assert p.stdout.readline().strip() == "ready"
        for p in procs:
            p.stdin.write("go\n")
            p.stdin.flush()
        results = [json.loads(p.communicate(timeout=30)[0]) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    allowed = [r["allowed"] for r in results]
    assert sum(allowed) == limit, allowed
    assert all(a > 0 for a in allowed), f"both processes should have got a share: {allowed}"


@pytest.mark.django_db
def test_a_spent_shared_budget_stops_the_calls_and_leaves_the_rest_to_the_schedule(vendors_on, settings):
    settings.NEWSAPI_RATE_LIMIT, settings.NEWSAPI_RATE_WINDOW_SECONDS = 1, 86400  # the free plan, nearly spent
    RateLimiter("newsapi").reset()
    first, second = make_customer(domain="one.com", name="One"), make_customer(domain="two.com", name="Two")
    assert fetch_vendor_data.delay(first.pk, "newsapi").get() == "ok"
    assert fetch_vendor_data.delay(second.pk, "newsapi").get() == "error"
    record = ExternalRecord.objects.get(customer=second, vendor="newsapi")
    assert "rate limit reached" in record.error and "left to the schedule" in record.error
    assert len(vendors_on.calls_to("newsapi")) == 1
