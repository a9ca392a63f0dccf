"""The Celery application. Configured from Django settings (``CELERY_*``).

Broker and result backend: Redis (``CELERY_BROKER_URL``, else ``REDIS_URL``);
without either, tasks run eagerly in the caller. Queues (``CELERY_TASK_ROUTES``):
``external`` for third-party HTTP fetches, ``refresh`` for context
recomputation, ``celery`` for the rest. Late acks with re-queue on a lost
worker, prefetch 1, soft/hard time limits and the beat schedule are all in
``config/settings/base.py``. Run: ``celery -A config worker -Q celery,external,refresh``
and ``celery -A config beat`` (or ``honcho start`` with the Procfile).
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("enrichment")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Sub-packages of `enrichment` that hold tasks but are not Django apps of their own.
app.autodiscover_tasks(["enrichment.engine", "enrichment.ops", "enrichment.realtime"])
