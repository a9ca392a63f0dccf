"""Real services a test starts and stops itself: a private redis-server on a
free port, a database pointed at a port where nothing listens."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import connection


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # released on return: nothing listens there


class PrivateRedis:
    """``redis-server`` on a free port (or ``port``: a restart), no persistence
    unless ``persistent`` (an append-only file fsynced at every write, in
    ``workdir``: a restart finds what was written); ``stop()`` kills it."""

    def __init__(self, workdir: Path, *, port: int | None = None, persistent: bool = False):
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("redis-server is missing: the suite's Redis comes from it (scripts/test-services.sh starts it)")
        self.port = port or free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        persistence = ["--appendonly", "yes", "--appendfsync", "always"] if persistent else ["--appendonly", "no"]
        self.proc = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", *persistence, "--dir", str(workdir)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                redis.Redis.from_url(self.url, socket_timeout=0.2).ping()
                return
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise
                time.sleep(0.05)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


@contextlib.contextmanager
def database_on_closed_port():
    """Every new connection of the default database goes to a port where
    nothing listens, with the production pool wait (``DATABASE_POOL_TIMEOUT``)
    untouched; restored afterwards."""
    real_port = connection.settings_dict["PORT"]
    try:
        connection.close()
        connection.close_pool()
        connection.settings_dict["PORT"] = str(free_port())
        yield
    finally:
        connection.close()
        connection.close_pool()
        connection.settings_dict["PORT"] = real_port


ROOT = Path(__file__).resolve().parents[2]


def service_env(**overrides: str) -> dict[str, str]:
    """The environment a deployment would give a web or worker process that
    uses the pytest database and this run's Redis."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DEBUG": "false",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{connection.settings_dict['NAME']}",
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "LOG_JSON": "true",
        "ENRICHMENT_HEALTH_WRITES": "inline",
        **overrides,
    }
    return {k: v for k, v in env.items() if v is not None}


class Service:
    """A subprocess in its own process group, output to ``log``; ``stop()`` ends the group."""

    def __init__(self, argv: list[str], env: dict[str, str], log: Path):
        self.log = log
        with log.open("ab") as out:
            self.proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)


def wait_until(predicate, timeout: float, what: str, service: Service | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    tail = service.text()[-4000:] if service else ""
    raise AssertionError(f"timed out after {timeout}s waiting for {what}\n{tail}")
