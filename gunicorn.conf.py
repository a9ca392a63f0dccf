"""Gunicorn settings, read by default from the working directory (the Procfile's
``web`` process). Command-line options (``--bind``, ``--workers``) still win.

- Errors gunicorn answers itself (a request line over ``limit_request_line``:
  414, a header over ``limit_request_field_size`` or too many: 431, a
  malformed request: 400) have the API's JSON error shape
  (``config/gunicorn_worker.py``).
- The access log goes through structlog with the request id (``config/gunicorn_logging.py``).
- Prometheus multiprocess mode: every worker writes its metrics to files in
  ``PROMETHEUS_MULTIPROC_DIR`` and any worker's ``/metrics`` sums them all.
  When the variable is unset a private directory is made for this server;
  it is emptied at start and a dead worker's live gauges are dropped.
  Set it only for the web processes (not for Celery or commands).
"""

import glob
import os
import tempfile

# Before anything imports prometheus_client: its value class is chosen at import.
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="cce-prometheus-")

from prometheus_client import multiprocess

from config.gunicorn_logging import configure_master_logging

configure_master_logging()

logger_class = "config.gunicorn_logging.StructlogGunicornLogger"
worker_class = "config.gunicorn_worker.JsonErrorSyncWorker"
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None  # "" turns it off (the benchmark)
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# gunicorn 27's control socket defaults to one path per user ($HOME/.gunicorn/gunicorn.ctl),
# which two servers on a host would fight over: off unless a path is given.
control_socket_disable = not os.environ.get("GUNICORN_CONTROL_SOCKET")
if os.environ.get("GUNICORN_CONTROL_SOCKET"):
    control_socket = os.environ["GUNICORN_CONTROL_SOCKET"]


def on_starting(server):
    path = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    os.makedirs(path, exist_ok=True)
    for stale in glob.glob(os.path.join(path, "*.db")):
        os.remove(stale)


def child_exit(server, worker):
    multiprocess.mark_process_dead(worker.pid)
