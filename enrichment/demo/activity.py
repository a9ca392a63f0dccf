"""Engagement events for the demo seed: exact counts in a window, or a daily Poisson rhythm.

Events are plain :data:`~enrichment.demo.builders.Event` tuples; the seed turns
them into rows once the contacts they point at have primary keys.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable, Mapping

from customers.models import EngagementKind
from enrichment.demo.builders import Clock, Event, poisson, times_between


def events_between(
    rng: random.Random,
    counts: Mapping[str, int],
    start: dt.datetime,
    end: dt.datetime,
    n_contacts: int,
) -> list[Event]:
    """Exactly ``counts[key]`` events in [start, end]; key ``"login"`` or a feature name."""
    events: list[Event] = []
    for key, n in counts.items():
        kind, feature = (EngagementKind.LOGIN, "") if key == "login" else (EngagementKind.FEATURE_USE, key)
        events.extend((kind, feature, t, rng.randrange(n_contacts)) for t in times_between(rng, n, start, end))
    return events


def daily_activity(
    rng: random.Random,
    clock: Clock,
    *,
    days_ago: range,
    since: dt.date,
    login_rate: float,
    feature_ratio: float,
    trend: Callable[[int], float],
    feature_weights: Mapping[str, float],
    n_contacts: int,
    upper: dt.datetime | None = None,
) -> list[Event]:
    """Poisson logins and feature uses per day, shaped by ``trend(days_ago)``; quieter at weekends."""
    events: list[Event] = []
    since_dt = clock.midnight(since)
    upper = upper or clock.now - dt.timedelta(hours=1)
    features = list(feature_weights)
    weights = [feature_weights[f] for f in features]
    for d in days_ago:
        anchor = clock.now - dt.timedelta(days=d, hours=1)
        weekday_factor = 0.35 if anchor.weekday() >= 5 else 1.0
        lam = login_rate * trend(d) * weekday_factor
        if lam <= 0:
            continue
        logins = poisson(rng, lam)
        uses = poisson(rng, lam * feature_ratio) if features else 0
        for i in range(logins + uses):
            occurred_at = anchor - dt.timedelta(seconds=rng.randint(0, 23 * 3600))
            if occurred_at < since_dt or occurred_at > upper:
                continue
            if i < logins:
                events.append((EngagementKind.LOGIN, "", occurred_at, rng.randrange(n_contacts)))
            else:
                feature = rng.choices(features, weights=weights)[0]
                events.append((EngagementKind.FEATURE_USE, feature, occurred_at, rng.randrange(n_contacts)))
    return events


def steady(_days_ago: int) -> float:
    """The flat trend of the fixed accounts' older activity."""
    return 1.0
