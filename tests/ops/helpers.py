"""Real services a test starts and stops itself: a private redis-server on a
free port, a database pointed at a port where nothing listens."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest
import redis
from django.db import connection


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # released on return: nothing listens there


class PrivateRedis:
    """``redis-server`` on a free port, no persistence; ``stop()`` kills it."""

    def __init__(self, workdir: Path):
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.skip("redis-server is not installed")
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(workdir)],
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
