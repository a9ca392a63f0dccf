"""Training time of the churn model on 100,000 accounts with 15 months of history.

    DATABASE_URL=postgres://.../enrichment_churn_bench python -m bench.churn [--customers N]

Generates (inside PostgreSQL, set-based; reused when present) an account base
whose cancellations follow a pattern: 12 % of accounts cancel at a random day
of the last 450 days; in the 60 days before, most of their events stop and
errors appear. Then times ``churn_model_train`` (12 monthly snapshots, 90-day
horizon): the feature build (set-based SQL) and the fit and backtest, and
writes ``bench/results/churn.json``. Its own database (default
``enrichment_churn_bench``): the data set is not the benchmark's.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import time
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/enrichment_churn_bench")

import django

CHURNER = "(hashtext(c.external_id) & 1023) < 123"  # about 12 %
STEPS = [
    ("plans", """
        INSERT INTO billing_plan (code, name, tier, monthly_price_per_seat) VALUES
          ('starter','Starter',1,15), ('professional','Professional',2,30), ('premium','Premium',3,50), ('enterprise','Enterprise',4,90)
        ON CONFLICT (code) DO NOTHING"""),
    ("customers", """
        INSERT INTO customers_customer
          (external_id, company_name, domain, industry, region, customer_since, account_owner, created_at, updated_at)
        SELECT 'churn_' || lpad(i::text, 7, '0'), 'Company ' || i, 'company' || i || '.example', 'Software', 'us',
               current_date - (460 + i %% 800), '', now(), now()
        FROM generate_series(1, %(customers)s) AS i"""),
    ("subscriptions", f"""
        INSERT INTO billing_subscription (customer_id, plan_id, status, billing_cycle, seats_purchased, seats_used, mrr, started_at,
                                          renewal_date, trial_ends_at, canceled_at, created_at, updated_at)
        SELECT c.id, p.id, CASE WHEN {CHURNER} THEN 'canceled' ELSE 'active' END,
               CASE WHEN c.id %% 4 = 0 THEN 'annual' ELSE 'monthly' END, 5 + c.id %% 40, 3 + c.id %% 30,
               (5 + c.id %% 40) * p.monthly_price_per_seat, c.customer_since, current_date + (c.id %% 30)::int, NULL,
               CASE WHEN {CHURNER} THEN current_date - (1 + (hashtext(c.external_id || 'd') & 1023) %% 450) END, now(), now()
        FROM customers_customer c JOIN billing_plan p ON p.tier = 1 + c.id %% 4
        WHERE c.external_id LIKE 'churn_%%'"""),
    ("invoices", """
        INSERT INTO billing_invoice (customer_id, subscription_id, number, amount, status, issued_at, due_at, paid_at)
        SELECT s.customer_id, s.id, 'CINV-' || s.id || '-' || m, s.mrr,
               CASE WHEN s.canceled_at IS NOT NULL AND current_date - 30 * m > s.canceled_at - 60 AND s.id %% 3 = 0
                    THEN 'failed' ELSE 'paid' END,
               current_date - 30 * m, current_date - 30 * m + 14,
               CASE WHEN s.canceled_at IS NOT NULL AND current_date - 30 * m > s.canceled_at - 60 AND s.id %% 3 = 0
                    THEN NULL ELSE current_date - 30 * m + 3 END
        FROM billing_subscription s CROSS JOIN generate_series(1, 15) AS m
        WHERE s.canceled_at IS NULL OR current_date - 30 * m < s.canceled_at"""),
    ("tickets", """
        INSERT INTO support_ticket (customer_id, contact_id, subject, channel, status, priority, category, created_at,
                                    first_response_at, resolved_at, csat, assignee_id)
        SELECT t.customer_id, NULL, 'Ticket', 'email', 'solved', CASE WHEN t.near THEN 'urgent' ELSE 'normal' END, 'bug', t.at,
               t.at + interval '1 hour', t.at + interval '6 hours', CASE WHEN t.near THEN 1 + g %% 2 ELSE 3 + g %% 3 END, NULL
        FROM (
          SELECT s.customer_id, g,
                 CASE WHEN s.canceled_at IS NOT NULL AND g %% 5 = 0 THEN s.canceled_at - (1 + g %% 40) * interval '1 day'
                      ELSE now() - (((hashtext(s.customer_id || ':' || g) & 65535) / 65536.0) * 450) * interval '1 day' END AS at,
                 s.canceled_at IS NOT NULL AND g %% 5 = 0 AS near, s.canceled_at
          FROM billing_subscription s CROSS JOIN generate_series(1, 5) AS g
        ) t WHERE t.canceled_at IS NULL OR t.at < t.canceled_at"""),
    ("events", """
        INSERT INTO customers_engagementevent (customer_id, contact_id, kind, feature, occurred_at, event_id)
        SELECT e.customer_id, NULL, e.kind, CASE WHEN e.kind = 'feature_use' THEN 'reports' ELSE '' END, e.at, NULL
        FROM (
          SELECT s.customer_id, s.canceled_at,
                 CASE WHEN g %% 10 < 6 THEN 'login' ELSE 'feature_use' END AS kind,
                 now() - (((hashtext(s.customer_id || '/' || g) & 65535) / 65536.0) * 460) * interval '1 day' AS at, g
          FROM billing_subscription s CROSS JOIN generate_series(1, %(events_each)s) AS g
        ) e
        WHERE (e.canceled_at IS NULL OR e.at < e.canceled_at)
          AND NOT (e.canceled_at IS NOT NULL AND e.at > e.canceled_at - 60 AND e.g %% 10 < 7)"""),
    ("errors before cancellations", """
        INSERT INTO customers_engagementevent (customer_id, contact_id, kind, feature, occurred_at, event_id)
        SELECT s.customer_id, NULL, 'error', '', s.canceled_at - (1 + g) * interval '2 days', NULL
        FROM billing_subscription s CROSS JOIN generate_series(1, 15) AS g WHERE s.canceled_at IS NOT NULL"""),
]  # fmt: skip


def ensure_data(customers: int) -> None:
    from django.db import connection, transaction  # after django.setup()

    from customers.partitions import events_partitions_ensure

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM customers_customer WHERE external_id LIKE 'churn_%%'")
        if cursor.fetchone()[0] == customers:
            print(f"reusing {customers} accounts", flush=True)
            return
        # 460 days of events: each month's partition first, so that no row goes through the DEFAULT partition
        events_partitions_ensure(since=dt.date.today() - dt.timedelta(days=470))
        params = {"customers": customers, "events_each": 50}
        for name, sql in STEPS:
            started = time.perf_counter()
            cursor.execute(sql, params)
            print(f"  {name}: {time.perf_counter() - started:.1f}s", flush=True)
        cursor.execute("ANALYZE")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=100_000)
    args = parser.parse_args()
    django.setup()
    from django.core.management import call_command  # after django.setup()

    from enrichment.churn.services import churn_model_train

    call_command("migrate", verbosity=0)
    ensure_data(args.customers)
    model = churn_model_train(snapshots=12, horizon_days=90, activate=False)
    w, m, r = model.training_window, model.metrics["model"], model.metrics["rules"]
    result = {
        "accounts": args.customers,
        "snapshot_rows": w["train_rows"] + w["holdout_rows"],
        "build_seconds": w["build_seconds"],
        "total_seconds": model.training_seconds,
        "fit_and_backtest_seconds": round(model.training_seconds - w["build_seconds"], 3),
        "model_auc": m["roc_auc"],
        "rules_auc": r["roc_auc"],
        "cores": os.cpu_count(),
    }
    print(json.dumps(result, indent=2))
    out = Path(__file__).resolve().parent / "results" / "churn.json"
    out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
