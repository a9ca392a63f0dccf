"""Tests: real PostgreSQL and Redis on their standard local ports by default."""

import os

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/enrichment")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/9")
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "true")

from config.settings.base import *

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CONTEXT_L1_TTL = 1.0
# Tests read CustomerHealth right after an enrichment; tests/enrichment/test_health_writer.py covers "auto".
ENRICHMENT_HEALTH_WRITES = "inline"
# Test runs must not be polluted by a vendor key in the developer's shell.
CLEARBIT_API_KEY = None
CRUNCHBASE_API_KEY = None
NEWSAPI_KEY = None
# No background reload of the churn model (a thread outside the test's transaction): tests load it explicitly.
CHURN_MODEL_REFRESH_SECONDS = 0
# seed_demo in tests: no churn history accounts unless a test asks (tests/enrichment/demo/test_churn_demo.py).
DEMO_CHURN_HISTORY_ACCOUNTS = 0
