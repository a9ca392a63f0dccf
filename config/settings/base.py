"""Settings shared by every environment.

The environment is read only through :mod:`config.env`. Every integration is
off unless its variable is set: no ``REDIS_URL`` means an in-process cache and
eager Celery, no vendor key means that vendor is simply not called.
"""

from __future__ import annotations

from config.env import (
    BASE_DIR,
    database_from_url,
    env_bool,
    env_float,
    env_int,
    env_list,
    env_str,
    replica_from_url,
)

# --- Core --------------------------------------------------------------------
SECRET_KEY = env_str("SECRET_KEY", "insecure-dev-key-change-me-in-production") or ""
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# True only in config.settings.production: demo seeding refuses to run there.
IS_PRODUCTION = False

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "customers",
    "billing",
    "support",
    "enrichment",
    "enrichment.api",
    "enrichment.history",
    "enrichment.experiments",
    "enrichment.churn",
    "enrichment.vendors",
]

MIDDLEWARE = [
    "config.middleware.RequestIdMiddleware",
    "config.replicas.ReplicaRequestMiddleware",
    "enrichment.api.errors.ApiJsonErrorMiddleware",
    "enrichment.api.middleware.RequestBodyLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "enrichment.api.middleware.StaticFilesMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "enrichment.api.middleware.DatabaseRetryMiddleware",  # last: its process_exception sees the view's errors first
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database ----------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL")
DATABASES = {"default": database_from_url(DATABASE_URL, conn_max_age=env_int("CONN_MAX_AGE", 0))}
# Read replicas (config/replicas.py): reads go to a healthy one, writes and read-after-write to the primary.
DATABASE_REPLICA_URLS = env_list("DATABASE_REPLICA_URLS", [])
DATABASES |= {f"replica_{n}": replica_from_url(url) for n, url in enumerate(DATABASE_REPLICA_URLS, start=1)}
DATABASE_ROUTERS = ["config.replicas.ReplicaRouter"] if DATABASE_REPLICA_URLS else []
DATABASE_REPLICA_MAX_LAG_SECONDS = env_float("DATABASE_REPLICA_MAX_LAG_SECONDS", 5.0)
DATABASE_REPLICA_CHECK_SECONDS = env_float("DATABASE_REPLICA_CHECK_SECONDS", 2.0)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# SQLite (the embedded default) cannot add INCLUDE columns to an index: it simply
# skips the PostgreSQL-only covering index of the engagement rollup.
SILENCED_SYSTEM_CHECKS = ["models.W040"]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# WhiteNoise serves static files (Swagger UI, admin) under gunicorn too. With
# finders on, it serves them straight from the apps, so no collectstatic step is
# needed; set WHITENOISE_USE_FINDERS=false after `manage.py collectstatic`.
WHITENOISE_USE_FINDERS = env_bool("WHITENOISE_USE_FINDERS", True)

# --- Cache -------------------------------------------------------------------
# REDIS_URL set: django-redis (shared by every process) for the default cache
# and the context cache's L2. Unset: in-process caches (embedded default).
REDIS_URL = env_str("REDIS_URL")
REDIS_SOCKET_TIMEOUT = env_float("REDIS_SOCKET_TIMEOUT", 0.25)


def _redis_cache(location: str, *, prefix: str) -> dict:
    return {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": location,
        "KEY_PREFIX": prefix,
        "OPTIONS": {
            "CLIENT_CLASS": "django_redis.client.DefaultClient",
            "SERIALIZER": "django_redis.serializers.json.JSONSerializer",
            "SOCKET_CONNECT_TIMEOUT": REDIS_SOCKET_TIMEOUT,
            "SOCKET_TIMEOUT": REDIS_SOCKET_TIMEOUT,
            "CONNECTION_POOL_KWARGS": {"max_connections": 50, "retry_on_timeout": False},
        },
    }


if REDIS_URL:
    CACHES = {
        "default": _redis_cache(REDIS_URL, prefix="cce"),
        "context": _redis_cache(REDIS_URL, prefix="cce"),
    }
else:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "default"},
        "context": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "context"},
    }

# --- Context enrichment --------------------------------------------------------
# Names kept from the seed document: CONTEXT_CACHE_ENABLED, CONTEXT_CACHE_TTL.
CONTEXT_CACHE_ENABLED = env_bool("CONTEXT_CACHE_ENABLED", True)
CONTEXT_CACHE_TTL = env_int("CONTEXT_CACHE_TTL", 300)  # seconds, L2 (Redis)
CONTEXT_CACHE_ALIAS = "context"  # the django cache used as L2
# L1 lives in each process. Its TTL bounds how long another process may serve a
# context after it was invalidated (see README, "Freshness").
CONTEXT_L1_TTL = env_float("CONTEXT_L1_TTL", 1.0)
# Invalidation from any writer (enrichment/engine/changes.py): the change listener
# wakes on NOTIFY (PostgreSQL) and polls the database's change log this often anyway.
CONTEXT_CHANGES_POLL_SECONDS = env_float("CONTEXT_CHANGES_POLL_SECONDS", 1.0)
# Run the change listener in a thread of the web process (the embedded default, whose
# cache is in-process); production runs `manage.py context_changes_listen` instead.
CONTEXT_CHANGES_IN_PROCESS = env_bool("CONTEXT_CHANGES_IN_PROCESS", False)
CONTEXT_L1_MAX_ENTRIES = env_int("CONTEXT_L1_MAX_ENTRIES", 10_000)
# CONTEXT_STRATEGIES (optional): name -> options; see enrichment/experiments/strategies.py
# for the options and the built-in set used when it is not set.
# How long a process trusts its list of running experiments (seconds): starting or ending one
# reaches every process within this time; serving a context reads no experiment from the database.
EXPERIMENTS_REFRESH_SECONDS = env_float("EXPERIMENTS_REFRESH_SECONDS", 10.0)
# The requester part (who is asking) is kept per process at most this long, and only
# while the account context it was built beside is the one served (enrichment/engine/requester.py).
CONTEXT_REQUESTER_TTL = env_float("CONTEXT_REQUESTER_TTL", 30.0)
# How the latest health of a computed context is written (enrichment/health_writer.py):
# "auto" queues it off the request path on PostgreSQL, "inline" writes it in the request.
ENRICHMENT_HEALTH_WRITES = env_str("ENRICHMENT_HEALTH_WRITES", "auto") or "auto"
ENRICHMENT_HEALTH_FLUSH_SECONDS = env_float("ENRICHMENT_HEALTH_FLUSH_SECONDS", 1.0)
# Overall deadline for one enrichment, in milliseconds.
ENRICHMENT_DEADLINE_MS = env_int("ENRICHMENT_DEADLINE_MS", 2000)

ENRICHMENT_PROVIDERS = [
    "enrichment.providers.internal.CustomerIntelligenceProvider",
    "enrichment.providers.internal.EngagementMetricsProvider",
    "enrichment.providers.internal.SupportHistoryProvider",
    "enrichment.providers.internal.SubscriptionDetailsProvider",
    "enrichment.providers.internal.AccountHealthProvider",
    # Reads what the Celery tasks stored from Clearbit/Crunchbase/NewsAPI (one
    # query); off when no vendor key is set. See "Background jobs and external data".
    "enrichment.providers.external.CompanyEnrichmentProvider",
    # Real time (see README, "Real-time context and changes").
    "enrichment.providers.realtime.ProductStatusProvider",
    "enrichment.providers.realtime.CurrentActivityProvider",
    "enrichment.providers.realtime.AgentPerformanceProvider",
]

# --- Real-time context ---------------------------------------------------------
# Atlassian Statuspage of the product (e.g. https://status.example.com): its
# summary.json is fetched every PRODUCT_STATUS_REFRESH_SECONDS by Celery beat
# and merged with our own incidents. Unset: our incidents only.
STATUSPAGE_URL = env_str("STATUSPAGE_URL")
STATUSPAGE_TIMEOUT_SECONDS = env_float("STATUSPAGE_TIMEOUT_SECONDS", 5.0)
# A stored summary older than this is no longer shown (Statuspage unreachable).
STATUSPAGE_STALE_SECONDS = env_int("STATUSPAGE_STALE_SECONDS", 600)
# How often beat republishes the incident state (and fetches Statuspage).
PRODUCT_STATUS_REFRESH_SECONDS = env_int("PRODUCT_STATUS_REFRESH_SECONDS", 30)
# How long a process keeps the published incident state before asking Redis again.
PRODUCT_STATUS_MEMO_SECONDS = env_float("PRODUCT_STATUS_MEMO_SECONDS", 5.0)
# The "current activity" window and the most events kept per customer for it.
CURRENT_ACTIVITY_WINDOW_MINUTES = env_int("CURRENT_ACTIVITY_WINDOW_MINUTES", 15)
CURRENT_ACTIVITY_MAX_EVENTS = env_int("CURRENT_ACTIVITY_MAX_EVENTS", 1000)
# The per-agent view of the API's ?agent= parameter looks back this many days.
AGENT_PERFORMANCE_DAYS = env_int("AGENT_PERFORMANCE_DAYS", 7)
# Context snapshots older than this are pruned daily (0 keeps them forever).
CONTEXT_SNAPSHOT_RETENTION_DAYS = env_int("CONTEXT_SNAPSHOT_RETENTION_DAYS", 365)
# /metrics (Prometheus): allowed with "Authorization: Bearer $METRICS_TOKEN", or
# from 127.0.0.1 directly (no X-Forwarded-For) unless METRICS_ALLOW_LOCALHOST=false.
METRICS_TOKEN = env_str("METRICS_TOKEN")
METRICS_ALLOW_LOCALHOST = env_bool("METRICS_ALLOW_LOCALHOST", True)

# The product's feature catalogue: feature adoption is the share of these used
# in the last 30 days.
ENRICHMENT_PRODUCT_FEATURES = env_list(
    "ENRICHMENT_PRODUCT_FEATURES",
    ["projects", "tasks", "reports", "dashboards", "integrations", "automations", "api", "exports"],
)

# Health score weights (points out of 100) and flag thresholds. Any key given
# here overrides the default in enrichment/scoring.py / enrichment/flags.py.
ENRICHMENT_HEALTH_WEIGHTS: dict[str, float] = {}
ENRICHMENT_FLAG_THRESHOLDS: dict[str, float] = {}

# External data vendors: each is off unless its key is set.
CLEARBIT_API_KEY = env_str("CLEARBIT_API_KEY")
CRUNCHBASE_API_KEY = env_str("CRUNCHBASE_API_KEY")
NEWSAPI_KEY = env_str("NEWSAPI_KEY")
ENABLE_EXTERNAL_APIS = env_bool("ENABLE_EXTERNAL_APIS", True)
# Second company-data vendor (used when Clearbit is not configured).
PEOPLEDATALABS_API_KEY = env_str("PEOPLEDATALABS_API_KEY")
# Base URLs are settings so tests and `manage.py fake_vendors` can stand in.
CLEARBIT_BASE_URL = env_str("CLEARBIT_BASE_URL", "https://company.clearbit.com")
CRUNCHBASE_BASE_URL = env_str("CRUNCHBASE_BASE_URL", "https://api.crunchbase.com")
NEWSAPI_BASE_URL = env_str("NEWSAPI_BASE_URL", "https://newsapi.org")
PEOPLEDATALABS_BASE_URL = env_str("PEOPLEDATALABS_BASE_URL", "https://api.peopledatalabs.com")
# Selective lookups: only customers whose live subscription has at least this
# MRR, or is on one of these plan codes, are looked up at the vendors.
EXTERNAL_ENRICHMENT_MIN_MRR = env_float("EXTERNAL_ENRICHMENT_MIN_MRR", 100.0)
EXTERNAL_ENRICHMENT_PLANS = env_list("EXTERNAL_ENRICHMENT_PLANS", [])
EXTERNAL_DATA_TTL_HOURS = env_int("EXTERNAL_DATA_TTL_HOURS", 168)
# HTTP: one shared client per process.
EXTERNAL_HTTP_CONNECT_TIMEOUT = env_float("EXTERNAL_HTTP_CONNECT_TIMEOUT", 3.0)
EXTERNAL_HTTP_READ_TIMEOUT = env_float("EXTERNAL_HTTP_READ_TIMEOUT", 10.0)
EXTERNAL_HTTP_USER_AGENT = env_str("EXTERNAL_HTTP_USER_AGENT", "customer-context-enrichment/0.1") or ""
# Retries: exponential backoff with jitter (base * 2**n, capped), at most N retries.
EXTERNAL_MAX_RETRIES = env_int("EXTERNAL_MAX_RETRIES", 5)
EXTERNAL_RETRY_BASE_SECONDS = env_float("EXTERNAL_RETRY_BASE_SECONDS", 2.0)
EXTERNAL_RETRY_MAX_SECONDS = env_float("EXTERNAL_RETRY_MAX_SECONDS", 300.0)
EXTERNAL_QUEUED_RETRY_SECONDS = env_float("EXTERNAL_QUEUED_RETRY_SECONDS", 30.0)
# Eager mode (no broker) waits at most this long before a retry.
EXTERNAL_EAGER_MAX_WAIT_SECONDS = env_float("EXTERNAL_EAGER_MAX_WAIT_SECONDS", 2.0)
# Circuit breaker per vendor, shared by every worker through the default cache.
EXTERNAL_CIRCUIT_FAILURES = env_int("EXTERNAL_CIRCUIT_FAILURES", 5)
EXTERNAL_CIRCUIT_COOLDOWN_SECONDS = env_float("EXTERNAL_CIRCUIT_COOLDOWN_SECONDS", 60.0)
# Rate limits per vendor (requests per window), shared by every worker.
CLEARBIT_RATE_LIMIT = env_int("CLEARBIT_RATE_LIMIT", 600)  # per minute
CRUNCHBASE_RATE_LIMIT = env_int("CRUNCHBASE_RATE_LIMIT", 200)  # per minute
PEOPLEDATALABS_RATE_LIMIT = env_int("PEOPLEDATALABS_RATE_LIMIT", 100)  # per minute
NEWSAPI_RATE_LIMIT = env_int("NEWSAPI_RATE_LIMIT", 100)  # per NEWSAPI_RATE_WINDOW_SECONDS (free plan: 100/day)
NEWSAPI_RATE_WINDOW_SECONDS = env_int("NEWSAPI_RATE_WINDOW_SECONDS", 86400)
NEWSAPI_LOOKBACK_DAYS = env_int("NEWSAPI_LOOKBACK_DAYS", 30)
NEWSAPI_PAGE_SIZE = env_int("NEWSAPI_PAGE_SIZE", 10)
# Scheduled refreshes (see CELERY_BEAT_SCHEDULE).
CONTEXT_REFRESH_ACTIVE_DAYS = env_int("CONTEXT_REFRESH_ACTIVE_DAYS", 1)
CONTEXT_REFRESH_RENEWAL_DAYS = env_int("CONTEXT_REFRESH_RENEWAL_DAYS", 30)
EXTERNAL_REFRESH_BATCH = env_int("EXTERNAL_REFRESH_BATCH", 500)
# Nightly check of the engagement rollup against the raw events (the last N UTC
# days; 0: all history): drift is logged and exported on /metrics, and
# rebuilt only when ROLLUP_VERIFY_FIX is on (else run `manage.py rollup_verify --fix`).
ROLLUP_VERIFY_DAYS = env_int("ROLLUP_VERIFY_DAYS", 60)
ROLLUP_VERIFY_FIX = env_bool("ROLLUP_VERIFY_FIX", False)
from config.settings.partitions import *  # EVENTS_RETENTION_MONTHS, EVENTS_PARTITIONS_AHEAD, EVENTS_PARTITIONS_BEAT

# Churn model (enrichment/churn): reload period in each process (0: when told), snapshots, label horizon.
CHURN_MODEL_REFRESH_SECONDS = env_int("CHURN_MODEL_REFRESH_SECONDS", 60)
CHURN_SNAPSHOTS = env_int("CHURN_SNAPSHOTS", 12)
CHURN_HORIZON_DAYS = env_int("CHURN_HORIZON_DAYS", 90)
DEMO_CHURN_HISTORY_ACCOUNTS = env_int("DEMO_CHURN_HISTORY_ACCOUNTS", 400)  # seed_demo's accounts with churn history

# --- Celery ------------------------------------------------------------------
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL) or "memory://"
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND", REDIS_URL)
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", not bool(REDIS_URL))
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_DEFAULT_QUEUE = "celery"
# Every task is idempotent: acknowledged after it ran, re-queued if the worker dies (opt out: acks_late=False).
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 300)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 360)
CELERY_RESULT_EXPIRES = 24 * 3600
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Redis broker: an unacknowledged message goes to another worker after visibility_timeout
# seconds, which must stay above CELERY_TASK_TIME_LIMIT and the longest retry countdown or ETA.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600),
    "unacked_restore_interval": env_int("CELERY_UNACKED_RESTORE_INTERVAL", 10),
    "unacked_restore_throttle": 1,
}
# Prefix for every broker key: deployments (or test runs) sharing one Redis database keep their messages apart.
if env_str("CELERY_BROKER_KEY_PREFIX"):
    CELERY_BROKER_TRANSPORT_OPTIONS["global_keyprefix"] = env_str("CELERY_BROKER_KEY_PREFIX")
CELERY_TASK_ROUTES = {
    "enrichment.fetch_*": {"queue": "external"},  # third-party HTTP calls
    "enrichment.refresh_*": {"queue": "refresh"},  # context recomputation
    "enrichment.snapshot_*": {"queue": "refresh"},
}
from celery.schedules import crontab

# Beat records a heartbeat on every tick (enrichment_beat_last_tick_timestamp_seconds), at least this often.
CELERY_BEAT_SCHEDULER = "enrichment.ops.beat:HeartbeatScheduler"
CELERY_BEAT_MAX_LOOP_INTERVAL = 30
# Routine beat tasks (every 30 s) whose Celery lines go to DEBUG; the tasks log at INFO when they do something.
CELERY_QUIET_TASKS = ["enrichment.fetch_product_status"]
CELERY_BEAT_SCHEDULE = EVENTS_PARTITIONS_BEAT | {
    "refresh-active-contexts": {
        "task": "enrichment.refresh_active_contexts",
        "schedule": env_int("CONTEXT_REFRESH_ACTIVE_EVERY_SECONDS", 900),
    },
    "refresh-renewing-contexts": {"task": "enrichment.refresh_renewing_contexts", "schedule": crontab(minute=5)},
    "refresh-stale-external-data": {"task": "enrichment.refresh_stale_external_data", "schedule": crontab(minute=20)},
    "snapshot-health-daily": {"task": "enrichment.snapshot_health_daily", "schedule": crontab(hour=23, minute=50)},
    # Publishes the incident state (and fetches Statuspage when STATUSPAGE_URL is set).
    "fetch-product-status": {
        "task": "enrichment.fetch_product_status",
        "schedule": PRODUCT_STATUS_REFRESH_SECONDS,
        "options": {"expires": PRODUCT_STATUS_REFRESH_SECONDS},
    },
    # A backstop for the change listener (manage.py context_changes_listen).
    "apply-context-changes": {
        "task": "enrichment.apply_context_changes",
        "schedule": 60,
        "options": {"expires": 60},
    },
    "prune-context-snapshots": {"task": "enrichment.prune_context_snapshots", "schedule": crontab(hour=3, minute=40)},
    "verify-engagement-rollup": {"task": "enrichment.verify_engagement_rollup", "schedule": crontab(hour=4, minute=15)},
    "train-churn-model": {"task": "enrichment.train_churn_model", "schedule": crontab(day_of_week="sun", hour=5, minute=0)},
}

# --- REST framework ----------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "enrichment.api.errors.api_exception_handler",
}

# --- Agents' API (enrichment/api) ------------------------------------------------
# Per-token rate: "N/period" (s, min, hour, day; e.g. "600/min", "20/s"); "off" disables.
API_THROTTLE_RATE = env_str("API_THROTTLE_RATE", "600/min")
# Seconds a process trusts a token row it read (revocation reaches other processes within it).
API_TOKEN_CACHE_TTL = env_float("API_TOKEN_CACHE_TTL", 5.0)
# Largest accepted JSON body (1,000 events fit in well under 1 MB).
API_MAX_BODY_BYTES = env_int("API_MAX_BODY_BYTES", 2_621_440)
# One body limit: Django's own (forms, the admin, request.body) follows the API's.
DATA_UPLOAD_MAX_MEMORY_SIZE = API_MAX_BODY_BYTES

from config.openapi import API_DESCRIPTION, API_TAGS

SPECTACULAR_SETTINGS = {
    "TITLE": "Customer Context API",
    "DESCRIPTION": API_DESCRIPTION,
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SWAGGER_UI_SETTINGS": {"persistAuthorization": True, "displayOperationId": True},
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "TAGS": API_TAGS,
    # drf-spectacular's own enum hook, then docstrings' reStructuredText as Markdown.
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "enrichment.api.openapi.postprocess_for_readers"],
}

# --- Logging -----------------------------------------------------------------
LOG_LEVEL = env_str("LOG_LEVEL", "INFO") or "INFO"
LOG_JSON = env_bool("LOG_JSON", False)
LOGGING_CONFIG = None  # configured by config.logging.configure_logging below

from config.logging import configure_logging

configure_logging(json_lines=LOG_JSON, level=LOG_LEVEL, quiet_tasks=CELERY_QUIET_TASKS)
