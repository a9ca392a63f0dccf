"""The one place the environment is read.

Settings modules import the values they need from here; nothing else in the
project calls ``os.environ``. Each reader is typed and fails loudly with the
variable's name when a value cannot be parsed, so a typo in production is an
error at start-up rather than a surprise at request time.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    lowered = raw.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (true/false), got {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}") from exc


def env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a number, got {raw!r}") from exc


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


def database_from_url(url: str | None, *, conn_max_age: int = 0, pool: bool = True) -> dict:
    """Turn ``DATABASE_URL`` into a Django ``DATABASES['default']`` entry.

    Unset: a SQLite file in the project. ``sqlite:///path``: that SQLite file.
    ``postgres://user:pass@host:port/name``: PostgreSQL through psycopg 3, with
    Django's connection pool (``pool=True``) when persistent connections are off.
    """
    if not url:
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": BASE_DIR / "db.sqlite3"}
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "sqlite":
        # As dj-database-url: sqlite:///relative.db (in the project), sqlite:////absolute/path.db
        rest = unquote(url.split("://", 1)[1].split("?", 1)[0])
        if rest.startswith("//"):
            name = rest[1:]
        else:
            relative = rest.lstrip("/") or "db.sqlite3"
            name = str(BASE_DIR / relative)
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": name}
    if scheme in {"postgres", "postgresql", "pgsql"}:
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        options: dict = {}
        statement_timeout = query.pop("statement_timeout", None)
        if statement_timeout:
            options["options"] = f"-c statement_timeout={int(statement_timeout)}"
        if env_bool("DATABASE_PREPARED_STATEMENTS", True):
            # Server-side binding lets psycopg prepare repeated statements (after
            # 5 runs) on each connection: no re-planning on the hot path. Turn
            # off behind a transaction-pooling PgBouncer.
            options["server_side_binding"] = True
            options["prepare_threshold"] = 5
        options.update(query)
        if pool and conn_max_age == 0:
            options["pool"] = {
                "min_size": 1,
                "max_size": env_int("DATABASE_POOL_MAX_SIZE", 10),
                # Seconds a request waits for a connection (all busy, or the database unreachable).
                "timeout": env_float("DATABASE_POOL_TIMEOUT", 5.0),
            }
        config = {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parts.path.lstrip("/")) or "postgres",
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(parts.port or ""),
            "CONN_MAX_AGE": conn_max_age,
            "OPTIONS": options,
        }
        return config
    raise ImproperlyConfigured(f"DATABASE_URL has an unsupported scheme {scheme!r}; use sqlite:///path or postgres://...")


def replica_from_url(url: str) -> dict:
    """A read replica's ``DATABASES`` entry: as the primary's, with a short pool
    wait (``DATABASE_REPLICA_POOL_TIMEOUT``, 1 s) so a replica that went away
    costs a request little before it falls back to the primary."""
    config = database_from_url(url)
    if config["ENGINE"] != "django.db.backends.postgresql":
        raise ImproperlyConfigured("DATABASE_REPLICA_URLS: replicas must be postgres:// URLs")
    pool = config["OPTIONS"].get("pool")
    if pool:
        pool["timeout"] = env_float("DATABASE_REPLICA_POOL_TIMEOUT", 1.0)
    config["TEST"] = {"MIRROR": "default"}  # tests: the replica is the test database itself
    return config
