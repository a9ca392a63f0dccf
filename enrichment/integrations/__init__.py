"""HTTP clients for the third-party data vendors, and the shared machinery
(HTTP client, typed errors, circuit breaker, rate limiter) they run behind.

Only the Celery tasks in :mod:`enrichment.external_tasks` call these; a request
for a context never waits on a vendor.
"""
