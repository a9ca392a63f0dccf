"""Support's windowed figures use the one definition of "the last N days"
(customers/windows.py): ``now - N days < created_at <= now``."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model

from customers.windows import trailing
from support.selectors import agent_workload, ticket_stats_by_category
from tests.customers.factories import CustomerFactory
from tests.support.factories import TicketFactory

NOW = dt.datetime(2026, 12, 2, 15, 30, tzinfo=dt.UTC)
EDGES = {
    "exactly 30 days ago": NOW - dt.timedelta(days=30),  # out
    "30 days less a second": NOW - dt.timedelta(days=30) + dt.timedelta(seconds=1),  # in
    "now": NOW,  # in
    "a second from now": NOW + dt.timedelta(seconds=1),  # out
}


@pytest.mark.django_db
def test_tickets_30d_and_an_agents_recent_tickets_share_the_window_edges():
    agent = get_user_model().objects.create_user("edge-agent")
    customer = CustomerFactory()
    for subject, created in EDGES.items():
        TicketFactory(customer=customer, assignee=agent, subject=subject, created_at=created, csat=None)
    window = trailing(NOW)
    stats = ticket_stats_by_category(customer_pks=[customer.pk], window=window)[customer.pk]
    assert sum(row["recent"] for row in stats) == 2
    assert sum(row["total"] for row in stats) == 4
    assert agent_workload(agent_pk=agent.pk, window=window)["tickets_recent"] == 2
