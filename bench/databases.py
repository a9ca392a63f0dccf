"""Where each scale's data set lives: its own PostgreSQL database and Redis DB,
so that a run at one scale never truncates another scale's data set.

``DATABASE_URL`` / ``REDIS_URL`` in the environment still win (bench/settings.py
only sets defaults). The xl run compares with the full data set in the same
run; ``BENCH_COMPARE_DATABASE_URL`` points it elsewhere than ``enrichment_bench``.
"""

from __future__ import annotations

import os

POSTGRES = "postgres://postgres@127.0.0.1:5432/"
REDIS = "redis://127.0.0.1:6379/"

# scale: (database, Redis DB). small shares full's database (and replaces its data set).
SCALE_DATABASES = {
    "full": ("enrichment_bench", 11),
    "small": ("enrichment_bench", 11),
    "xl": ("enrichment_bench_xl", 14),
}


def scale_urls(scale: str) -> tuple[str, str]:
    """(DATABASE_URL, REDIS_URL) of a scale's data set, by default."""
    database, redis_db = SCALE_DATABASES.get(scale, SCALE_DATABASES["full"])
    return POSTGRES + database, f"{REDIS}{redis_db}"


def compare_database_url(scale: str) -> str:
    """The data set of ``scale`` that another scale's run compares with (read;
    generated only when its database is absent)."""
    return os.environ.get("BENCH_COMPARE_DATABASE_URL") or scale_urls(scale)[0]
