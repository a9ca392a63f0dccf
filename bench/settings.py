"""Settings for `make bench`: PostgreSQL and Redis, production-like (DEBUG off,
persistent pooled connections), its own database and Redis DB."""

import os

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/enrichment_bench")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/11")
os.environ.setdefault("LOG_LEVEL", "WARNING")

from config.settings.base import *

DEBUG = False
ALLOWED_HOSTS = ["*"]
ROOT_URLCONF = "bench.urls"

