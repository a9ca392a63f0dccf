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
)

# --- Core --------------------------------------------------------------------
SECRET_KEY = env_str("SECRET_KEY", "insecure-dev-key-change-me-in-production") or ""
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "customers",
    "billing",
    "support",
    "enrichment",
]

MIDDLEWARE = [
    "config.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
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
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

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
# L1 lives in each process. Its TTL is the bound on how long another process may
# serve a context after it was invalidated (see README, "Cache").
CONTEXT_L1_TTL = env_float("CONTEXT_L1_TTL", 5.0)
CONTEXT_L1_MAX_ENTRIES = env_int("CONTEXT_L1_MAX_ENTRIES", 10_000)
# Overall deadline for one enrichment, in milliseconds.
ENRICHMENT_DEADLINE_MS = env_int("ENRICHMENT_DEADLINE_MS", 2000)

ENRICHMENT_PROVIDERS = [
    "enrichment.providers.internal.CustomerIntelligenceProvider",
    "enrichment.providers.internal.EngagementMetricsProvider",
    "enrichment.providers.internal.SupportHistoryProvider",
    "enrichment.providers.internal.SubscriptionDetailsProvider",
    "enrichment.providers.internal.AccountHealthProvider",
]

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

# --- Celery ------------------------------------------------------------------
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL) or "memory://"
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND", REDIS_URL)
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", not bool(REDIS_URL))
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE

# --- REST framework ----------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "UNAUTHENTICATED_USER": None,
}

# --- Logging -----------------------------------------------------------------
LOG_LEVEL = env_str("LOG_LEVEL", "INFO") or "INFO"
LOG_JSON = env_bool("LOG_JSON", False)
LOGGING_CONFIG = None  # configured by config.logging.configure_logging below

from config.logging import configure_logging

configure_logging(json_lines=LOG_JSON, level=LOG_LEVEL)
