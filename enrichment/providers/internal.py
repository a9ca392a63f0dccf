"""The internal providers: each reads one section through the apps' selectors
with a fixed number of set-based queries, whatever the customers' history. A
single enrichment is a batch of one (see :class:`BatchProvider`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from django.conf import settings

from billing.selectors import subscriptions_current, subscriptions_current_planned
from config.db import PlannedQuery
from customers.models import EngagementKind
from customers.selectors import EngagementWindow, engagement_windows, engagement_windows_planned
from customers.windows import trailing
from enrichment.churn.serving import churn_apply, serving_version
from enrichment.context.sections import (
    AccountHealth,
    CustomerIntelligence,
    EngagementMetrics,
    FeatureUsage,
    SubscriptionDetails,
    SupportHistory,
    TicketBrief,
    lifecycle_state,
)
from enrichment.providers.base import BatchProvider, ContextProvider, ProviderRequest
from enrichment.rules.health import assess
from support.selectors import (
    RecentTickets,
    ticket_stats_by_category,
    ticket_stats_planned,
    tickets_recent,
    tickets_recent_planned,
)

Sections = Mapping[int, Mapping[str, Any]]
_NO_TICKETS = RecentTickets()
_CENT = Decimal("0.01")
# The kinds as plain strings: the rows' values, and dictionary keys that match them.
_LOGIN, _FEATURE_USE = str(EngagementKind.LOGIN.value), str(EngagementKind.FEATURE_USE.value)
_API_CALL, _ERROR = str(EngagementKind.API_CALL.value), str(EngagementKind.ERROR.value)


class CustomerIntelligenceProvider(ContextProvider):
    """Company profile, plan, MRR and lifecycle (from the subscription
    section). Health score and churn risk are filled in by the service from
    the account health assessment."""

    key = "customer_intelligence"
    section = CustomerIntelligence
    depends_on = ("subscription_details",)

    def fetch(self, request: ProviderRequest, *, sections: Mapping[str, Any]) -> CustomerIntelligence:
        customer = request.customer
        subscription: SubscriptionDetails | None = sections.get("subscription_details")
        lifecycle = lifecycle_state(subscription.status) if subscription is not None else "unknown"
        subscription = subscription or SubscriptionDetails()
        return CustomerIntelligence(
            customer_id=customer.external_id,
            company_name=customer.company_name,
            domain=customer.domain,
            industry=customer.industry,
            region=customer.region,
            account_owner=customer.account_owner,
            plan=subscription.plan,
            plan_name=subscription.plan.replace("_", " ").title() if subscription.plan else "",
            mrr=subscription.mrr,
            customer_since=customer.customer_since,
            days_as_customer=max(0, (request.today - customer.customer_since).days),
            lifecycle=lifecycle,
            last_mrr=subscription.last_mrr,
            canceled_at=subscription.canceled_at,
        )


class EngagementMetricsProvider(BatchProvider):
    key = "engagement_metrics"
    section = EngagementMetrics

    def planned_queries(self, request: ProviderRequest) -> list[PlannedQuery]:
        return engagement_windows_planned(customer_pk=request.customer.pk, now=request.now)

    def fetch_many(self, requests: Sequence[ProviderRequest], *, sections: Sections) -> dict[int, EngagementMetrics]:
        if not requests:
            return {}
        today = requests[0].today
        windows = engagement_windows(customer_pks=[r.customer.pk for r in requests], now=requests[0].now)
        catalogue = list(settings.ENRICHMENT_PRODUCT_FEATURES)
        days = [today - dt.timedelta(days=offset) for offset in range(29, -1, -1)]
        return {pk: self._section(window, days, catalogue) for pk, window in windows.items()}

    @staticmethod
    def _section(window: EngagementWindow, days: list[dt.date], catalogue: list[str]) -> EngagementMetrics:
        totals: dict[str, int] = {}  # per kind, one pass over the (kind, feature) counts
        usage: dict[str, int] = {}
        for (kind, feature), n in window.current.items():
            totals[kind] = totals.get(kind, 0) + n
            if kind == _FEATURE_USE and feature:
                usage[feature] = usage.get(feature, 0) + n
        logins = totals.get(_LOGIN, 0)
        logins_prev = sum(n for (kind, _feature), n in window.previous.items() if kind == _LOGIN)
        ranked = sorted(usage.items(), key=lambda item: (-item[1], item[0]))
        used_known = sum(1 for feature in usage if feature in catalogue)
        return EngagementMetrics(
            login_count_30d=logins,
            login_count_prev_30d=logins_prev,
            login_trend_pct=round((logins - logins_prev) / logins_prev * 100, 1) if logins_prev else None,
            last_login_at=window.last_login_at,
            active_days_30d=window.active_days_30d,
            most_used_features=tuple(feature for feature, _n in ranked[:3]),
            feature_usage_30d=tuple(FeatureUsage(feature, n) for feature, n in ranked[:10]),
            features_used_30d=len(usage),
            features_available=len(catalogue),
            feature_adoption_score=round(used_known / len(catalogue), 3) if catalogue else 0.0,
            api_calls_30d=totals.get(_API_CALL, 0),
            errors_30d=totals.get(_ERROR, 0),
            daily_logins_30d=tuple(map(window.logins_by_day.get, days, [0] * len(days))),
        )


class SupportHistoryProvider(BatchProvider):
    key = "support_history"
    section = SupportHistory

    def planned_queries(self, request: ProviderRequest) -> list[PlannedQuery]:
        pk = request.customer.pk
        return ticket_stats_planned(customer_pk=pk, window=trailing(request.now)) + tickets_recent_planned(customer_pk=pk)

    def fetch_many(self, requests: Sequence[ProviderRequest], *, sections: Sections) -> dict[int, SupportHistory]:
        if not requests:
            return {}
        pks = [r.customer.pk for r in requests]
        stats = ticket_stats_by_category(customer_pks=pks, window=trailing(requests[0].now))
        recent = tickets_recent(customer_pks=pks) if stats else {}
        return {pk: self._section(stats.get(pk, []), recent.get(pk, _NO_TICKETS)) for pk in pks}

    @staticmethod
    def _section(rows: list[dict[str, Any]], tickets: RecentTickets) -> SupportHistory:
        if not rows:
            return SupportHistory()
        csat_sum = sum(row["csat_sum"] or 0 for row in rows)
        csat_n = sum(row["csat_n"] for row in rows)
        response_n = sum(row["first_response_n"] for row in rows)
        response_seconds = sum(
            row["first_response"].total_seconds() * row["first_response_n"] for row in rows if row["first_response"] is not None
        )
        categories = sorted((row for row in rows if row["category"]), key=lambda row: (-row["total"], row["category"]))
        # A ticket among both the newest and the newest open ones: one (equal, frozen) brief for both.
        briefs = {ticket[0]: TicketBrief(*ticket) for ticket in (*tickets.recent, *tickets.open)}  # by ticket id
        return SupportHistory(
            total_conversations=sum(row["total"] for row in rows),
            open_tickets=sum(row["open"] for row in rows),
            urgent_open_tickets=sum(row["urgent_open"] for row in rows),
            tickets_30d=sum(row["recent"] for row in rows),
            avg_csat=round(csat_sum / csat_n, 2) if csat_n else None,
            csat_responses=csat_n,
            common_issues=tuple(row["category"] for row in categories[:3]),
            avg_first_response_hours=round(response_seconds / response_n / 3600, 2) if response_n else None,
            last_ticket_at=max(row["last_created"] for row in rows),
            recent_tickets=tuple(briefs[ticket[0]] for ticket in tickets.recent),
            open_ticket_list=tuple(briefs[ticket[0]] for ticket in tickets.open),
        )


class SubscriptionDetailsProvider(BatchProvider):
    key = "subscription_details"
    section = SubscriptionDetails

    def planned_queries(self, request: ProviderRequest) -> list[PlannedQuery]:
        return subscriptions_current_planned(customer_pk=request.customer.pk, today=request.today)

    def fetch_many(self, requests: Sequence[ProviderRequest], *, sections: Sections) -> dict[int, SubscriptionDetails]:
        if not requests:
            return {}
        today = requests[0].today
        rows = subscriptions_current(customer_pks=[r.customer.pk for r in requests], today=today)
        return {r.customer.pk: self._section(rows.get(r.customer.pk), today) for r in requests}

    @staticmethod
    def _section(row: dict[str, Any] | None, today: dt.date) -> SubscriptionDetails:
        """A canceled subscription bills nothing and renews never: ``mrr`` 0,
        its MRR in ``last_mrr``, no renewal date."""
        if row is None:
            return SubscriptionDetails()
        purchased, used = row["seats_purchased"], row["seats_used"]
        renewal, trial_end = row["renewal_date"], row["trial_ends_at"]
        is_trial = row["status"] == "trialing"
        canceled = row["status"] == "canceled"
        mrr = Decimal(row["mrr"]).quantize(_CENT)
        if canceled:
            renewal = None
        return SubscriptionDetails(
            status=row["status"],
            plan=row["plan__code"],
            billing_cycle=row["billing_cycle"],
            seats_purchased=purchased,
            seats_used=used,
            seat_utilization=round(used / purchased, 3) if purchased else 0.0,
            mrr=Decimal("0.00") if canceled else mrr,
            started_at=row["started_at"],
            renewal_date=renewal,
            days_to_renewal=(renewal - today).days if renewal else None,
            is_trial=is_trial,
            trial_ends_at=trial_end,
            days_to_trial_end=(trial_end - today).days if (trial_end and is_trial) else None,
            failed_invoices_90d=row["failed_invoices_90d"] or 0,
            overdue_invoices=row["overdue_invoices"] or 0,
            last_invoice_status=row["last_invoice_status"] or "",
            canceled_at=row["canceled_at"] if canceled else None,
            last_mrr=mrr if canceled else None,
        )


class AccountHealthProvider(ContextProvider):
    """Derived: health score, churn risk and flags from the other sections.
    Pure computation, no queries (see :mod:`enrichment.rules.health`); the
    churn risk comes from the learned model held in memory when one serves
    (:mod:`enrichment.churn.serving`), whose version is this section's data version."""

    key = "account_health"
    section = AccountHealth
    source = "computed"
    # product_status: an incident affecting the customer is a red flag, so an
    # expired (or re-versioned) product status re-derives the flags too.
    depends_on = ("customer_intelligence", "engagement_metrics", "support_history", "subscription_details", "product_status")

    def data_version(self) -> str | None:
        return serving_version()

    def fetch(self, request: ProviderRequest, *, sections: Mapping[str, Any]) -> AccountHealth:
        return churn_apply(assess(sections, today=request.today), sections)
