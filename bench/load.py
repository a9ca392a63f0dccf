"""The API figure: gunicorn serving the context endpoint with a warm cache,
against a bare DRF view returning the same bytes from memory, both driven by
wrk for the same duration and concurrency."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import redis

ROOT = Path(__file__).resolve().parent.parent
PORT = int(os.environ.get("BENCH_PORT", "8097"))
DURATION = os.environ.get("BENCH_LOAD_DURATION", "10s")
ROUNDS = int(os.environ.get("BENCH_LOAD_ROUNDS", "5"))  # A, B, A, B ... in short rounds of DURATION / ROUNDS
CONNECTIONS = int(os.environ.get("BENCH_LOAD_CONNECTIONS", "16"))
WORKERS = int(os.environ.get("BENCH_WEB_WORKERS", str(os.cpu_count() or 2)))


def _wait_for_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"gunicorn did not listen on {port}")


def _interleaved(first: tuple[str, str | None], second: tuple[str, str | None]) -> tuple[float, float]:
    """Requests/s of two targets measured in alternating short rounds, so a
    machine that speeds up or slows down mid-run hits both alike."""
    seconds = max(1, int(DURATION.rstrip("s")) // ROUNDS)
    a, b = [], []
    for _ in range(ROUNDS):
        a.append(_wrk(*first, seconds=seconds))
        b.append(_wrk(*second, seconds=seconds))
    return sum(a) / len(a), sum(b) / len(b)


def _wrk(url: str, token: str | None, *, seconds: int | None = None) -> float:
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is not installed: apt-get install wrk")
    duration = f"{seconds}s" if seconds else DURATION
    command = ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{duration}", "--latency"]
    if token:
        command += ["-H", f"Authorization: Bearer {token}"]
    out = subprocess.run([*command, url], capture_output=True, text=True, check=True, timeout=120).stdout
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise RuntimeError(f"{errors.group(1)} failed responses under load:\n{out}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def _rss_mb(pids: list[int]) -> float:
    peak = 0
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        match = re.search(r"VmHWM:\s+(\d+) kB", status)
        if match:
            peak = max(peak, int(match.group(1)))
    return peak / 1024


def measure_api(ids: list[str]) -> dict:
    from django.conf import settings

    from bench.urls import BODY_KEY
    from enrichment.api.tokens import api_token_create
    from enrichment.context.scopes import TokenScope

    _token, secret = api_token_create(name=f"bench-{int(time.time())}", scope=TokenScope.FULL)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "API_THROTTLE_RATE": "100000000/min",
        "CONTEXT_L1_TTL": "300",
        "GUNICORN_ACCESS_LOG": "",  # gunicorn.conf.py: no access line per wrk request
        "EXPERIMENTS_REFRESH_SECONDS": "1",
    }
    server = subprocess.Popen(
        [
            sys.executable, "-m", "gunicorn", "config.wsgi:application",
            "--bind", f"127.0.0.1:{PORT}", "--workers", str(WORKERS), "--worker-class", "gthread", "--threads", "4",
            "--log-level", "warning", "--env", "DJANGO_SETTINGS_MODULE=bench.settings",
        ],
        cwd=ROOT, env=env, start_new_session=True,
    )  # fmt: skip
    try:
        _wait_for_port(PORT)
        customer_id = ids[0]
        url = f"http://127.0.0.1:{PORT}/api/v1/customers/{customer_id}/context/"
        headers = {"Authorization": f"Bearer {secret}"}
        with httpx.Client(timeout=10) as client:
            for _ in range(WORKERS * 20):  # warm every worker's L1
                response = client.get(url, headers=headers)
                response.raise_for_status()
            body = response.content
        redis.Redis.from_url(settings.REDIS_URL).set(BODY_KEY, body)
        bare = (f"http://127.0.0.1:{PORT}/bench/bare/{customer_id}/", None)
        api_rps, bare_rps = _interleaved((url, secret), bare)
        experiment_rps, bare_again_rps = _with_experiment(url, headers, bare)
        workers = [int(pid) for pid in subprocess.run(["pgrep", "-P", str(server.pid)], capture_output=True, text=True).stdout.split()]
        rss = _rss_mb(workers)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    return {
        "api_rps": api_rps,
        "bare_rps": bare_rps,
        "api_vs_bare": api_rps / bare_rps,
        "api_experiment_rps": experiment_rps,
        "bare_again_rps": bare_again_rps,
        "api_experiment_vs_bare": experiment_rps / bare_again_rps,
        "web_rss_mb": rss,
        "api_body_bytes": len(body),
        "load": (
            f"wrk -t2 -c{CONNECTIONS}, {ROUNDS} alternating rounds per side over {DURATION}, "
            f"gunicorn {WORKERS} gthread workers x 4 threads"
        ),
    }


def _with_experiment(url: str, headers: dict[str, str], bare: tuple[str, str | None]) -> tuple[float, float]:
    """The same request while an experiment (by account) is running: each
    response is then assigned, signed and rendered for its strategy."""
    from django.utils import timezone

    from enrichment.experiments.models import Experiment
    from enrichment.experiments.services import experiment_create

    Experiment.objects.filter(name="bench-running").delete()
    arms = [{"strategy": "default", "weight": 1}, {"strategy": "budget_800", "weight": 1}]
    experiment_create(name="bench-running", arms=arms, unit="account", starts_at=timezone.now())
    try:
        time.sleep(1.5)  # every worker's list of running experiments (EXPERIMENTS_REFRESH_SECONDS=1) moves on
        with httpx.Client(timeout=10) as client:
            for _ in range(WORKERS * 20):
                response = client.get(url, headers=headers)
                response.raise_for_status()
            assert response.json()["experiment"] == "bench-running", response.json().get("experiment")
        return _interleaved((url, headers["Authorization"].split()[1]), bare)
    finally:
        Experiment.objects.filter(name="bench-running").delete()
