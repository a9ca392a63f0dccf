"""The per-agent part of agent performance, outside the cached context.

The cached context is per customer, so it only holds the customer's view
(``agent_performance.best_agents``: who solved their tickets with the best
CSAT). What depends on the support agent asking (their open load, median
first response and CSAT over the last ``AGENT_PERFORMANCE_DAYS`` days, and
their history with this customer) is computed here, two indexed queries, only
when the API is given ``?agent=`` (a username or a user id), and added to the
response as ``agent_performance.agent``.
"""

from __future__ import annotations

import datetime as dt
import statistics
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone

from customers.windows import trailing
from support.selectors import agent_workload


class UnknownAgent(ValueError):
    pass


def agent_resolve(value: str) -> dict[str, Any]:
    """The active user named by ``value`` (a user id or a username)."""
    users = get_user_model()._default_manager.filter(is_active=True)
    value = value.strip()
    # ASCII digits only: "²" or "٣" pass str.isdigit() but are no user id
    lookup = {"pk": int(value)} if value.isascii() and value.isdigit() and len(value) < 10 else {"username": value}
    row = users.filter(**lookup).values("pk", "username", "first_name", "last_name").first()
    if row is None:
        raise UnknownAgent(value)
    return row


def agent_performance_for(*, agent: dict[str, Any], customer_pk: int | None, now: dt.datetime | None = None) -> dict[str, Any]:
    days = settings.AGENT_PERFORMANCE_DAYS
    now = now or timezone.now()
    load = agent_workload(agent_pk=agent["pk"], window=trailing(now, days=days), customer_pk=customer_pk)
    waits = load["first_responses_recent"]
    return {
        "id": agent["pk"],
        "username": agent["username"],
        "name": f"{agent['first_name']} {agent['last_name']}".strip(),
        "window_days": days,
        "open_tickets": load["open"],
        "tickets": load["tickets_recent"],
        "solved": load["solved_recent"],
        "median_first_response_hours": round(statistics.median(waits) / 3600, 2) if waits else None,
        "avg_csat": round(load["csat_sum_recent"] / load["csat_n_recent"], 2) if load["csat_n_recent"] else None,
        "csat_responses": load["csat_n_recent"],
        "customer_tickets": load["customer_tickets"],
        "customer_avg_csat": round(load["customer_csat_sum"] / load["customer_csat_n"], 2) if load["customer_csat_n"] else None,
    }
