"""Deterministic, sticky assignment of units to strategies, and the
``context_id`` every served context carries.

A unit's arm is a pure function of the experiment's name and the unit's key
(SHA-256 of both, read as a number in [0, 1), against the cumulative
weights): the same conversation sees the same strategy in every process, on
every retry, and in the results computed later, with nothing stored at serve
time.

A ``context_id`` says what was served, signed so nobody can forge one:
``ctx1.<payload>.<signature>``, the payload a URL-safe base64 of
``[experiment id or 0, strategy, customer id, unit key, unix time, nonce]``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings

PREFIX = "ctx1"


def bucket(experiment: str, unit_key: str) -> float:
    """Where a unit falls in [0, 1) for an experiment."""
    digest = hashlib.sha256(f"{experiment}\x1f{unit_key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def assign(experiment: str, arms: Sequence[dict[str, Any]], unit_key: str) -> str:
    """The strategy of ``unit_key``: arms ``[{"strategy", "weight"}, ...]`` in order."""
    total = sum(float(arm["weight"]) for arm in arms)
    point = bucket(experiment, unit_key) * total
    for arm in arms:
        point -= float(arm["weight"])
        if point < 0:
            return arm["strategy"]
    return arms[-1]["strategy"]


@dataclass(frozen=True, slots=True)
class ServedContext:
    """What a ``context_id`` records."""

    experiment_id: int | None
    strategy: str
    customer_id: str
    unit_key: str
    served_at: int


def _sign(payload: str) -> str:
    key = hashlib.sha256(("context-id" + settings.SECRET_KEY).encode()).digest()
    return hmac.new(key, payload.encode(), hashlib.sha256).hexdigest()[:20]


def context_id_make(*, experiment_id: int | None, strategy: str, customer_id: str, unit_key: str = "") -> str:
    nonce = secrets.token_hex(4)  # one id per context served
    raw = json.dumps([experiment_id or 0, strategy, customer_id, unit_key, int(time.time()), nonce], separators=(",", ":"))
    payload = base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")
    return f"{PREFIX}.{payload}.{_sign(payload)}"


def context_id_read(context_id: str) -> ServedContext | None:
    """What a context id records; ``None`` when it is not one this service signed."""
    if not isinstance(context_id, str) or len(context_id) > 400:
        return None
    parts = context_id.split(".")
    if len(parts) != 3 or parts[0] != PREFIX or not hmac.compare_digest(_sign(parts[1]), parts[2]):
        return None
    try:
        experiment_id, strategy, customer_id, unit_key, served_at, _nonce = json.loads(
            base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4))
        )
    except (ValueError, TypeError):
        return None
    return ServedContext(experiment_id or None, str(strategy), str(customer_id), str(unit_key), int(served_at))
