"""Generate the benchmark data set inside PostgreSQL (generate_series, set-based
INSERT ... SELECT): no Python row loops, minutes not hours for 5,000,000 events.

Two special customers: ``bench_heavy`` with HEAVY_EVENTS events and
``bench_light`` with 100. Reused when the data set already has the right size.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.db import connection


@dataclass(frozen=True)
class Scale:
    name: str
    customers: int
    events: int
    heavy_events: int
    tickets: int


SCALES = {
    "full": Scale("full", customers=100_000, events=5_000_000, heavy_events=1_000_000, tickets=500_000),
    "small": Scale("small", customers=2_000, events=120_000, heavy_events=50_000, tickets=10_000),
}

STEPS = [
    (
        "plans",
        """
        INSERT INTO billing_plan (code, name, tier, monthly_price_per_seat) VALUES
          ('starter','Starter',1,15), ('professional','Professional',2,30),
          ('premium','Premium',3,50), ('enterprise','Enterprise',4,90)
        ON CONFLICT (code) DO NOTHING
        """,
    ),
    (
        "customers",
        """
        INSERT INTO customers_customer
          (external_id, company_name, domain, industry, region, customer_since, account_owner, created_at, updated_at)
        SELECT CASE i WHEN 1 THEN 'bench_heavy' WHEN 2 THEN 'bench_light' ELSE 'bench_' || lpad(i::text, 7, '0') END,
               'Company ' || i, 'company' || i || '.example',
               (ARRAY['Technology','Software','Retail','Healthcare','Media'])[1 + i %% 5],
               (ARRAY['us','eu','apac'])[1 + i %% 3],
               current_date - (60 + i %% 900), 'Owner ' || (i %% 50), now(), now()
        FROM generate_series(1, %(customers)s) AS i
        """,
    ),
    (
        "contacts",
        """
        INSERT INTO customers_contact (customer_id, email, name, role, created_at)
        SELECT c.id, 'user' || n || '@' || c.domain, 'User ' || n, 'member', now()
        FROM customers_customer c CROSS JOIN generate_series(1, 2) AS n
        """,
    ),
    (
        "subscriptions",
        """
        INSERT INTO billing_subscription
          (customer_id, plan_id, status, billing_cycle, seats_purchased, seats_used, mrr, started_at,
           renewal_date, trial_ends_at, canceled_at, created_at, updated_at)
        SELECT c.id, p.id,
               (ARRAY['active','active','active','active','active','active','trialing','past_due','active','active'])[1 + c.id % 10],
               CASE WHEN c.id % 4 = 0 THEN 'annual' ELSE 'monthly' END,
               10 + c.id % 40, 5 + c.id % 30, (10 + c.id % 40) * p.monthly_price_per_seat,
               c.customer_since, current_date + (c.id % 365)::int,
               CASE WHEN c.id % 10 = 6 THEN current_date + (c.id % 14)::int END, NULL, now(), now()
        FROM customers_customer c
        JOIN billing_plan p ON p.tier = 1 + c.id % 4
        """,
    ),
    (
        "invoices",
        """
        INSERT INTO billing_invoice (customer_id, subscription_id, number, amount, status, issued_at, due_at, paid_at)
        SELECT s.customer_id, s.id, 'INV-' || s.id || '-' || m, s.mrr,
               CASE WHEN m = 1 AND s.status = 'past_due' THEN 'failed' WHEN m = 1 THEN 'open' ELSE 'paid' END,
               current_date - 30 * m, current_date - 30 * m + 14,
               CASE WHEN m > 1 THEN current_date - 30 * m + 3 END
        FROM billing_subscription s CROSS JOIN generate_series(1, 3) AS m
        """,
    ),
    (
        "tickets",
        """
        INSERT INTO support_ticket
          (customer_id, contact_id, subject, channel, status, priority, category, created_at,
           first_response_at, resolved_at, csat, assignee_id)
        SELECT t.customer_id, NULL, 'Ticket ' || t.g || ' about ' || t.cat, 'email',
               CASE WHEN t.r < 0.15 THEN 'open' ELSE 'solved' END,
               CASE WHEN t.r < 0.03 THEN 'urgent' WHEN t.r < 0.3 THEN 'high' ELSE 'normal' END,
               t.cat, t.created, t.created + interval '1 hour',
               CASE WHEN t.r >= 0.15 THEN t.created + interval '6 hours' END,
               CASE WHEN t.r >= 0.15 AND t.r < 0.8 THEN 1 + floor(random() * 5)::int END, NULL
        FROM (
          SELECT 1 + (g %% %(customers)s) AS customer_id, g, random() AS r,
                 (ARRAY['billing','bug','how_to','feature_request','account'])[1 + g %% 5] AS cat,
                 now() - (random() * interval '365 days') AS created
          FROM generate_series(1, %(tickets)s) AS g
        ) t
        """,
    ),
    (
        "events (population)",
        """
        INSERT INTO customers_engagementevent (customer_id, contact_id, kind, feature, occurred_at, event_id)
        SELECT 3 + (g %% (%(customers)s - 2)), NULL,
               CASE WHEN g %% 2 = 0 THEN 'login' ELSE 'feature_use' END,
               CASE WHEN g %% 2 = 0 THEN ''
                    ELSE (ARRAY['projects','tasks','reports','dashboards','integrations','automations','api','exports'])[1 + (g / 2) %% 8] END,
               now() - (random() * interval '120 days'), NULL
        FROM generate_series(1, %(population_events)s) AS g
        """,
    ),
    (
        "events (bench_heavy)",
        """
        INSERT INTO customers_engagementevent (customer_id, contact_id, kind, feature, occurred_at, event_id)
        SELECT 1, NULL, CASE WHEN g %% 2 = 0 THEN 'login' ELSE 'feature_use' END,
               CASE WHEN g %% 2 = 0 THEN ''
                    ELSE (ARRAY['projects','tasks','reports','dashboards','integrations','automations','api','exports'])[1 + (g / 2) %% 8] END,
               now() - (random() * interval '365 days'), NULL
        FROM generate_series(1, %(heavy_events)s) AS g
        """,
    ),
    (
        "events (bench_light)",
        """
        INSERT INTO customers_engagementevent (customer_id, contact_id, kind, feature, occurred_at, event_id)
        SELECT 2, NULL, CASE WHEN g % 2 = 0 THEN 'login' ELSE 'feature_use' END,
               CASE WHEN g % 2 = 0 THEN '' ELSE 'reports' END,
               now() - (random() * interval '120 days'), NULL
        FROM generate_series(1, 100) AS g
        """,
    ),
]


def existing_scale() -> dict[str, int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT count(*) FROM customers_customer), (SELECT count(*) FROM support_ticket),"
            " (SELECT reltuples::bigint FROM pg_class WHERE relname = 'customers_engagementevent')"
        )
        customers, tickets, events = cursor.fetchone()
    return {"customers": customers, "events": max(events, 0), "tickets": tickets}


def exact_scale() -> dict[str, int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT count(*) FROM customers_customer), (SELECT count(*) FROM customers_engagementevent),"
            " (SELECT count(*) FROM support_ticket)"
        )
        customers, events, tickets = cursor.fetchone()
    return {"customers": customers, "events": events, "tickets": tickets}


def ensure_data(scale: Scale, log=print) -> dict[str, int]:
    """Create the data set unless one of this size is already there."""
    have = existing_scale()
    if have["customers"] == scale.customers and have["tickets"] == scale.tickets and have["events"] >= scale.events * 0.95:
        log(f"reusing the data set: {have}")
        return exact_scale()
    if have["customers"]:
        log("data set has another size: truncating")
        with connection.cursor() as cursor:
            cursor.execute(
                "TRUNCATE customers_customer, customers_contact, customers_engagementevent, customers_engagementdaily,"
                " billing_subscription, billing_invoice, support_ticket, enrichment_customerhealth,"
                " enrichment_healthdaily RESTART IDENTITY CASCADE"
            )
    params = {
        "customers": scale.customers,
        "tickets": scale.tickets,
        "heavy_events": scale.heavy_events,
        "population_events": scale.events - scale.heavy_events - 100,
    }
    for name, sql in STEPS:
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(sql, params if "%(" in sql else None)
        log(f"  {name}: {time.perf_counter() - started:.1f}s")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return exact_scale()
