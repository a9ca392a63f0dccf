"""The floor for cold enrichment: the same numbers the internal providers
compute, in one hand-written SQL statement, through raw psycopg."""

FLOOR_SQL = """
SELECT c.id, c.external_id, c.company_name, c.domain, c.industry, c.region, c.customer_since,
       s.status, s.billing_cycle, s.seats_purchased, s.seats_used, s.mrr, s.renewal_date, s.trial_ends_at, s.code,
       (SELECT count(*) FROM billing_invoice i
         WHERE i.customer_id = c.id AND i.status = 'failed' AND i.issued_at >= current_date - 90) AS failed_90d,
       (SELECT count(*) FROM billing_invoice i
         WHERE i.customer_id = c.id AND i.status <> 'paid' AND i.due_at < current_date) AS overdue,
       (SELECT i.status FROM billing_invoice i WHERE i.customer_id = c.id ORDER BY i.issued_at DESC, i.id DESC LIMIT 1) AS last_invoice,
       e.logins_30d, e.logins_prev, e.active_days, f.features,
       coalesce(
         (SELECT max(ev.occurred_at) FROM customers_engagementevent ev
           WHERE ev.customer_id = c.id AND ev.kind = 'login'
             AND ev.occurred_at >= date_trunc('day', now(), 'UTC') AND ev.occurred_at <= now()),
         (SELECT coalesce(max(ev.occurred_at), ld.day::timestamp AT TIME ZONE 'UTC')
            FROM (SELECT max(d.day) AS day FROM customers_engagementdaily d
                  WHERE d.customer_id = c.id AND d.kind = 'login' AND d.day < (now() AT TIME ZONE 'UTC')::date) ld
            LEFT JOIN customers_engagementevent ev
              ON ev.customer_id = c.id AND ev.kind = 'login'
             AND ev.occurred_at >= ld.day::timestamp AT TIME ZONE 'UTC' AND ev.occurred_at < (ld.day + 1)::timestamp AT TIME ZONE 'UTC'
           GROUP BY ld.day)) AS last_login,
       t.total, t.open, t.urgent, t.recent, t.csat_avg, t.csat_n, t.first_response, t.last_created, r.recent_tickets
FROM customers_customer c
LEFT JOIN LATERAL (
  SELECT s.status, s.billing_cycle, s.seats_purchased, s.seats_used, s.mrr, s.renewal_date, s.trial_ends_at, p.code
  FROM billing_subscription s JOIN billing_plan p ON p.id = s.plan_id
  WHERE s.customer_id = c.id
  ORDER BY (s.status IN ('trialing', 'active', 'past_due')) DESC, s.started_at DESC, s.id DESC LIMIT 1
) s ON true
LEFT JOIN LATERAL (
  SELECT sum(d.count) FILTER (WHERE d.kind = 'login' AND d.day >= current_date - 29) AS logins_30d,
         sum(d.count) FILTER (WHERE d.kind = 'login' AND d.day < current_date - 29) AS logins_prev,
         count(DISTINCT d.day) FILTER (WHERE d.kind = 'login' AND d.day >= current_date - 29) AS active_days
  FROM customers_engagementdaily d
  WHERE d.customer_id = c.id AND d.day >= current_date - 59 AND d.day <= current_date
) e ON true
LEFT JOIN LATERAL (
  SELECT jsonb_object_agg(x.feature, x.n) AS features FROM (
    SELECT d.feature, sum(d.count) AS n FROM customers_engagementdaily d
    WHERE d.customer_id = c.id AND d.kind = 'feature_use' AND d.day >= current_date - 29 AND d.day <= current_date
    GROUP BY d.feature) x
) f ON true
LEFT JOIN LATERAL (
  SELECT count(*) AS total,
         count(*) FILTER (WHERE t.status IN ('open', 'pending')) AS open,
         count(*) FILTER (WHERE t.status IN ('open', 'pending') AND t.priority = 'urgent') AS urgent,
         count(*) FILTER (WHERE t.created_at >= now() - interval '30 days') AS recent,
         avg(t.csat) AS csat_avg, count(t.csat) AS csat_n,
         avg(t.first_response_at - t.created_at) AS first_response, max(t.created_at) AS last_created
  FROM support_ticket t WHERE t.customer_id = c.id
) t ON true
LEFT JOIN LATERAL (
  SELECT json_agg(x) AS recent_tickets FROM (
    SELECT t.id, t.subject, t.status, t.priority, t.category, t.created_at, t.csat
    FROM support_ticket t WHERE t.customer_id = c.id ORDER BY t.created_at DESC, t.id DESC LIMIT 5) x
) r ON true
WHERE c.external_id = %s
"""
