"""Prometheus metrics, served at ``/metrics`` (see :func:`metrics_view`).

==========================================  =========  =====================================================
metric                                      type       what
==========================================  =========  =====================================================
enrichment_context_requests_total{tier}     counter    context requests by the tier that answered: l1, l2,
                                                       partial (L2 hit with expired sections recomputed),
                                                       computed. Hit ratio: (l1 + l2) / all
enrichment_cache_hit_ratio                  gauge      the same ratio since this process started
enrichment_context_seconds{tier}            histogram  enrichment latency per tier; ``l1`` is sampled (1 hit
                                                       in ``L1_SAMPLE``) to keep the L1 path at ~2 µs
enrichment_provider_seconds{provider}       histogram  each provider's time when it ran (computed sections)
enrichment_degraded_sections_total          counter    sections served with defaults, by section and
  {section,reason}                                     reason (error, database_error, timeout, deadline)
enrichment_vendor_task_outcomes_total       counter    external-data task outcomes per vendor (ok, no_data,
  {vendor,outcome}                                     error, queued, fresh, retry, failure, ...), counted
                                                       in the shared cache: every worker's tasks
enrichment_vendor_circuit_state{vendor}     gauge      0 closed, 1 half-open, 2 open (the shared circuit)
enrichment_vendor_circuit_failures{vendor}  gauge      consecutive failures counted by the circuit
enrichment_rollup_drift_keys                gauge      (customer, day, kind, feature) keys where the last
                                                       nightly verify found the engagement rollup differing
                                                       from the raw events (0: none)
enrichment_rollup_drift_customers           gauge      customers with drift at that verify
enrichment_rollup_drift_unrepaired_keys     gauge      drifted keys left after it (all of them unless
                                                       ROLLUP_VERIFY_FIX repaired them)
enrichment_rollup_verified_timestamp_seconds gauge     when it ran (Unix time; alert when it gets old)
enrichment_context_changes_pending          gauge      data changes recorded by the database and not yet
                                                       applied to the cache (the change listener's backlog)
enrichment_context_changes_oldest_seconds   gauge      age of the oldest of them (0: none)
==========================================  =========  =====================================================

plus the Celery and beat metrics of :mod:`enrichment.ops.task_metrics`.

**Across gunicorn workers.** With ``PROMETHEUS_MULTIPROC_DIR`` set (``gunicorn.conf.py``
sets it for the web processes), the request metrics are prometheus_client's
multiprocess metrics: each worker writes its own file and any worker's scrape
sums them all, so one scrape of the service is the whole service. Without it
(``runserver``, tests) they are per process. Vendor, circuit, task, queue and
beat metrics are read from the shared cache or the broker at scrape time.

The L1 hit path only increments a plain integer (``TIER_COUNTS``); the
increments are moved into the ``enrichment_context_requests`` counter at the
end of each HTTP request, with every other tier's observation and at scrape
time (:func:`flush_tier_counts`).

The last rollup verification runs in a Celery worker and is stored in the
shared cache (:func:`record_rollup_drift`); the rollup series are absent until
it first ran.
"""

from __future__ import annotations

import hmac
import os
import threading
import time

import structlog
from django.conf import settings
from django.core.cache import caches
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, disable_created_metrics, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

from customers.changes import data_changes_pending
from enrichment.ops.task_metrics import TaskCollector
from enrichment.vendors.circuit import circuit_states
from enrichment.vendors.registry import VENDORS

logger = structlog.get_logger(__name__)

disable_created_metrics()  # no *_created series: they double the output for nothing here
PROCESS = CollectorRegistry(auto_describe=True)  # this process's request metrics (files in multiprocess mode)
L1_SAMPLE = 64  # one L1 hit in this many is timed into the histogram

_BUCKETS = (0.00001, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
CONTEXT_SECONDS = Histogram(
    "enrichment_context_seconds",
    f"Context enrichment latency by the tier that answered (l1 sampled 1 in {L1_SAMPLE}).",
    ["tier"],
    buckets=_BUCKETS,
    registry=PROCESS,
)
PROVIDER_SECONDS = Histogram(
    "enrichment_provider_seconds", "Time a context provider took when it ran.", ["provider"], buckets=_BUCKETS, registry=PROCESS
)
DEGRADED_SECTIONS = Counter(
    "enrichment_degraded_sections", "Sections served with defaults after a failure.", ["section", "reason"], registry=PROCESS
)

CONTEXT_REQUESTS = Counter("enrichment_context_requests", "Context requests by the tier that answered.", ["tier"], registry=PROCESS)

# Plain per-process counts, bumped on the hot paths and moved into CONTEXT_REQUESTS by flush_tier_counts().
TIERS = ("l1", "l2", "partial", "computed")
TIER_COUNTS = [0, 0, 0, 0]
_FLUSHED = [0, 0, 0, 0]
_FLUSH_LOCK = threading.Lock()
L1, L2, PARTIAL, COMPUTED = range(4)
for _tier in TIERS:
    CONTEXT_REQUESTS.labels(_tier)  # every tier exported from the start, at 0
_CONTEXT_SECONDS_BY_TIER = [CONTEXT_SECONDS.labels(_tier) for _tier in TIERS]

VENDOR_OUTCOMES = ("ok", "no_data", "queued", "error", "fresh", "not_configured", "unknown_customer", "retry", "failure", "other")
_VENDOR_KEY = "metrics:vendor_task:{vendor}:{outcome}"
_CIRCUIT_STATES = {"closed": 0, "half_open": 1, "open": 2}


def observe_context(index: int, seconds: float) -> None:
    """Count a context request answered by tier ``index`` and time it. L2 hits,
    like L1 hits, only bump the plain count (moved into the counter at the end
    of the request, at scrape time and every ``L1_SAMPLE`` hits)."""
    TIER_COUNTS[index] += 1
    _CONTEXT_SECONDS_BY_TIER[index].observe(seconds)
    if index != L2 or not TIER_COUNTS[index] % L1_SAMPLE:
        flush_tier_counts()


def observe_contexts(index: int, seconds: list[float]) -> None:
    """:func:`observe_context` for a chunk of contexts, counted at once."""
    TIER_COUNTS[index] += len(seconds)
    histogram = _CONTEXT_SECONDS_BY_TIER[index]
    for value in seconds:
        histogram.observe(value)
    flush_tier_counts()


def flush_tier_counts(**_signal) -> None:
    """Move the plain counts bumped since the last flush into the counter."""
    if TIER_COUNTS == _FLUSHED:
        return
    with _FLUSH_LOCK:
        for index, tier in enumerate(TIERS):
            delta = TIER_COUNTS[index] - _FLUSHED[index]
            if delta > 0:
                CONTEXT_REQUESTS.labels(tier).inc(delta)
            _FLUSHED[index] += delta  # a reset of TIER_COUNTS (delta < 0) restarts from there


def observe_provider(provider: str, seconds: float) -> None:
    PROVIDER_SECONDS.labels(provider).observe(seconds)


def degraded(section: str, reason: str) -> None:
    kind = reason.split(":", 1)[0].split(" after", 1)[0].strip().replace(" ", "_") or "error"
    if kind.startswith("deadline"):
        kind = "deadline"
    DEGRADED_SECTIONS.labels(section, kind).inc()


def _vendors() -> list[str]:
    return [*VENDORS, "statuspage"]


def normalize_outcome(outcome: object) -> str:
    text = str(outcome or "").strip().lower().replace(" ", "_")
    return text if text in VENDOR_OUTCOMES else "other"


def record_vendor_outcome(vendor: str, outcome: object) -> None:
    """Count one external-data task outcome in the shared cache (all workers).
    Never raises."""
    if vendor not in _vendors():
        vendor = "other"
    key = _VENDOR_KEY.format(vendor=vendor, outcome=normalize_outcome(outcome))
    cache = caches["default"]
    try:
        cache.add(key, 0, timeout=None)
        cache.incr(key)
    except Exception as exc:  # noqa: BLE001 - metrics never break a task
        logger.warning("metrics_vendor_count_failed", error=type(exc).__name__)


_ROLLUP_DRIFT_KEY = "metrics:rollup_drift"


def record_rollup_drift(*, keys: int, customers: int, unrepaired: int, checked_at: float) -> None:
    """Store the result of the last rollup verification (``checked_at``: Unix
    time) in the shared cache, for every process's ``/metrics``. Never raises."""
    value = {"keys": keys, "customers": customers, "unrepaired": unrepaired, "checked_at": checked_at}
    try:
        caches["default"].set(_ROLLUP_DRIFT_KEY, value, timeout=None)
    except Exception as exc:  # noqa: BLE001 - metrics never break a task
        logger.warning("metrics_rollup_drift_store_failed", error=type(exc).__name__)


def last_rollup_drift() -> dict | None:
    """What :func:`record_rollup_drift` stored last, or None (never ran, or the cache is down)."""
    try:
        return caches["default"].get(_ROLLUP_DRIFT_KEY)
    except Exception:  # noqa: BLE001
        return None


def multiprocess_dir() -> str | None:
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    return path if path and os.path.isdir(path) else None


class _ContextCollector:
    """The request metrics from ``source`` (this process's registry, or every
    worker's files) and the hit ratio computed from the summed counts."""

    def __init__(self, source):
        self.source = source

    def collect(self):
        totals = dict.fromkeys(TIERS, 0.0)
        for family in self.source.collect():
            if family.name == "enrichment_context_requests":
                for sample in family.samples:
                    if sample.name.endswith("_total") and sample.labels.get("tier") in totals:
                        totals[sample.labels["tier"]] += sample.value
            yield family
        total = sum(totals.values())
        yield GaugeMetricFamily(
            "enrichment_cache_hit_ratio",
            "Share of context requests answered from L1 or L2 (since the processes started).",
            value=(totals["l1"] + totals["l2"]) / total if total else 0.0,
        )


class _Collector:
    """Exports the vendor outcomes, the circuits, the rollup verify (shared
    cache) and the change backlog (database) when scraped."""

    def describe(self):
        return []  # registering must not read the cache or the database (import time)

    def collect(self):
        yield from self._vendor_metrics()
        yield from self._rollup_metrics()
        yield from self._change_metrics()

    def _vendor_metrics(self):
        vendors = _vendors()
        outcomes = CounterMetricFamily(
            "enrichment_vendor_task_outcomes", "External-data task outcomes per vendor (all workers).", labels=["vendor", "outcome"]
        )
        keys = {_VENDOR_KEY.format(vendor=v, outcome=o): (v, o) for v in [*vendors, "other"] for o in VENDOR_OUTCOMES}
        try:
            stored = caches["default"].get_many(list(keys))
        except Exception:  # noqa: BLE001 - the cache is down: no vendor series this scrape
            stored = {}
        for key, value in stored.items():
            outcomes.add_metric(list(keys[key]), float(value or 0))
        yield outcomes
        state = GaugeMetricFamily("enrichment_vendor_circuit_state", "0 closed, 1 half-open, 2 open.", labels=["vendor"])
        failures = GaugeMetricFamily("enrichment_vendor_circuit_failures", "Consecutive failures counted.", labels=["vendor"])
        try:
            for vendor, circuit in circuit_states().items():
                state.add_metric([vendor], _CIRCUIT_STATES.get(circuit.state, 0))
                failures.add_metric([vendor], circuit.failures)
        except Exception as exc:  # noqa: BLE001
            logger.warning("metrics_circuit_read_failed", error=type(exc).__name__)
        yield state
        yield failures

    def _rollup_metrics(self):
        last = last_rollup_drift()
        if not last:
            return
        gauges = (
            ("enrichment_rollup_drift_keys", "Rollup keys differing from the raw events at the last verify.", "keys"),
            ("enrichment_rollup_drift_customers", "Customers with rollup drift at the last verify.", "customers"),
            ("enrichment_rollup_drift_unrepaired_keys", "Drifted rollup keys left after the last verify.", "unrepaired"),
            ("enrichment_rollup_verified_timestamp_seconds", "When the rollup was last verified (Unix time).", "checked_at"),
        )
        for name, documentation, field in gauges:
            yield GaugeMetricFamily(name, documentation, value=float(last.get(field) or 0))


    def _change_metrics(self):
        """The database's change log (customers/triggers.py) waiting for the
        change listener: a backlog that grows means invalidations are late."""
        try:
            pending, oldest = data_changes_pending()
        except Exception as exc:  # noqa: BLE001 - the database is down: no change series this scrape
            logger.warning("metrics_changes_read_failed", error=type(exc).__name__)
            return
        yield GaugeMetricFamily("enrichment_context_changes_pending", "Recorded data changes not yet applied to the cache.", value=pending)
        age = (time.time() - oldest.timestamp()) if oldest is not None else 0.0
        yield GaugeMetricFamily("enrichment_context_changes_oldest_seconds", "Age of the oldest change not applied (0: none).", value=age)


REGISTRY = CollectorRegistry(auto_describe=True)  # what a scrape exports without multiprocess mode
REGISTRY.register(_ContextCollector(PROCESS))
REGISTRY.register(_Collector())
REGISTRY.register(TaskCollector())


def scrape_registry() -> CollectorRegistry:
    """This process's registry, or (multiprocess mode) one summing every worker's files."""
    path = multiprocess_dir()
    if path is None:
        return REGISTRY
    registry = CollectorRegistry()
    registry.register(_ContextCollector(MultiProcessCollector(None, path=path)))
    registry.register(_Collector())
    registry.register(TaskCollector())
    return registry


# -- the endpoint --------------------------------------------------------------------------------
_LOOPBACK = frozenset({"127.0.0.1", "::1", "::ffff:127.0.0.1"})


def metrics_allowed(request: HttpRequest) -> tuple[bool, int]:
    """(allowed, status when not): a ``Bearer`` token equal to ``METRICS_TOKEN``,
    or a direct request from the loopback address (not through a proxy: no
    ``X-Forwarded-For``) while ``METRICS_ALLOW_LOCALHOST`` is on."""
    token = getattr(settings, "METRICS_TOKEN", None) or ""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if header:
        scheme, _sep, given = header.partition(" ")
        if token and scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode()):
            return True, 200
        return False, 401 if token else 403
    local = request.META.get("REMOTE_ADDR", "") in _LOOPBACK and "HTTP_X_FORWARDED_FOR" not in request.META
    if local and getattr(settings, "METRICS_ALLOW_LOCALHOST", True):
        return True, 200
    return False, 401 if token else 403


@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    allowed, status = metrics_allowed(request)
    if not allowed:
        response = HttpResponse("metrics: not allowed\n", status=status, content_type="text/plain; charset=utf-8")
        if status == 401:
            response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    started = time.perf_counter()
    flush_tier_counts()
    body = generate_latest(scrape_registry())
    logger.debug("metrics_scraped", ms=round((time.perf_counter() - started) * 1000, 2))
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)
