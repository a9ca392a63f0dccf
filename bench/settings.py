"""Settings for `make bench`: PostgreSQL and Redis, production-like (DEBUG off,
persistent pooled connections), its own database and Redis DB per scale
(bench/databases.py; ``BENCH_SCALE``, set by ``bench.run --scale``)."""

import os

from bench.databases import scale_urls

_DATABASE_URL, _REDIS_URL = scale_urls(os.environ.get("BENCH_SCALE", "full"))
os.environ.setdefault("DATABASE_URL", _DATABASE_URL)
os.environ.setdefault("REDIS_URL", _REDIS_URL)
os.environ.setdefault("LOG_LEVEL", "WARNING")

from config.settings.base import *

DEBUG = False
ALLOWED_HOSTS = ["*"]
ROOT_URLCONF = "bench.urls"
