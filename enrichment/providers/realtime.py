"""The real-time providers: product status, the last minutes of activity and
the agents the customer rated best. All three are cheap at request time and
have short TTLs; on an L2 hit only their sections (and what derives from them)
are recomputed when they expire (see ``enrichment.engine.service``).

========================  ======  =============================================================
provider (key)            TTL     reads
========================  ======  =============================================================
product_status            60 s    the shared incident state (no query when published, else one
                                  indexed query); recomputed early when its version moves on
current_activity          30 s    one Redis ``ZRANGEBYSCORE`` (or one bounded indexed query)
agent_performance         600 s   one grouped query over the customer's rated tickets: in a
                                  chunk, skipped for customers with no CSAT rating at all; for
                                  one customer, sent in the cold context's single round trip
========================  ======  =============================================================
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.conf import settings

from config.db import PlannedQuery
from customers.models import EngagementKind
from customers.recent_activity import recent_events, redis_client
from enrichment.context.sections import (
    AgentPerformance,
    AgentStat,
    CurrentActivity,
    EngagementMetrics,
    FeatureUsage,
    ProductStatus,
    SubscriptionDetails,
    SupportHistory,
)
from enrichment.providers.base import BatchProvider, ContextProvider, ProviderRequest
from enrichment.realtime.product_status import current_state, current_state_planned, product_status_for, published_version
from support.selectors import ticket_agents_rated, ticket_agents_rated_planned

Sections = Mapping[int, Mapping[str, Any]]


class ProductStatusProvider(ContextProvider):
    """Active incidents (ours and Statuspage's), each marked ``affects_customer``
    by the customer's plan, region and features used in 30 days
    (see :mod:`enrichment.realtime.product_status`)."""

    key = "product_status"
    section = ProductStatus
    source = "database"
    timeout = 0.2
    ttl = 60
    depends_on = ("engagement_metrics", "subscription_details")

    def data_version(self) -> str | None:
        return published_version()

    def planned_queries(self, request: ProviderRequest) -> list[PlannedQuery]:
        return current_state_planned()

    def fetch(self, request: ProviderRequest, *, sections: Mapping[str, Any]) -> ProductStatus:
        return self.fetch_many([request], sections={request.customer.pk: sections})[request.customer.pk]

    def fetch_many(self, requests: Sequence[ProviderRequest], *, sections: Sections) -> dict[int, ProductStatus]:
        if not requests:
            return {}
        state = current_state()  # once for the whole batch: the incidents are global
        result = {}
        for request in requests:
            got = sections.get(request.customer.pk, {})
            engagement: EngagementMetrics = got.get("engagement_metrics") or EngagementMetrics()
            subscription: SubscriptionDetails = got.get("subscription_details") or SubscriptionDetails()
            features = {f.feature for f in engagement.feature_usage_30d} | set(engagement.most_used_features)
            result[request.customer.pk] = product_status_for(
                state,
                plan=subscription.plan,
                region=request.customer.region,
                features=features,
                api_active=engagement.api_calls_30d > 0,
                now=request.now,
            )
        return result


class CurrentActivityProvider(BatchProvider):
    """What the customer's users did in the last ``CURRENT_ACTIVITY_WINDOW_MINUTES``
    (15) minutes: active users, events by kind, features, errors."""

    key = "current_activity"
    section = CurrentActivity
    timeout = 0.2
    ttl = 30

    @property
    def source(self) -> str:  # type: ignore[override]
        return "redis" if redis_client() is not None else "database"

    def fetch_many(self, requests: Sequence[ProviderRequest], *, sections: Sections) -> dict[int, CurrentActivity]:
        if not requests:
            return {}
        found, source = recent_events(customer_pks=[r.customer.pk for r in requests], now=requests[0].now)
        return {pk: self._section(events, source) for pk, events in found.items()}

    @staticmethod
    def _section(events: list, source: str) -> CurrentActivity:
        users = {e.contact_pk for e in events if e.contact_pk is not None}
        counts: dict[str, int] = {}
        features: dict[str, int] = {}
        error_features: dict[str, int] = {}
        for event in events:
            counts[event.kind] = counts.get(event.kind, 0) + 1
            if event.kind == EngagementKind.FEATURE_USE and event.feature:
                features[event.feature] = features.get(event.feature, 0) + 1
            if event.kind == EngagementKind.ERROR and event.feature:
                error_features[event.feature] = error_features.get(event.feature, 0) + 1
        ranked = sorted(features.items(), key=lambda item: (-item[1], item[0]))[:10]
        return CurrentActivity(
            window_minutes=settings.CURRENT_ACTIVITY_WINDOW_MINUTES,
            active_users=len(users),
            events=len(events),
            logins=counts.get(EngagementKind.LOGIN, 0),
            api_calls=counts.get(EngagementKind.API_CALL, 0),
            errors=counts.get(EngagementKind.ERROR, 0),
            features=tuple(FeatureUsage(name, n) for name, n in ranked),
            error_features=tuple(name for name, _n in sorted(error_features.items(), key=lambda item: (-item[1], item[0]))[:5]),
            last_event_at=max((e.occurred_at for e in events), default=None),
            source=source,
        )


class AgentPerformanceProvider(BatchProvider):
    """The agents (``Ticket.assignee``) who solved this customer's tickets with
    the best CSAT: solved-and-rated tickets grouped by agent, best average
    first (more ratings break ties), at most ``MAX_AGENTS``.

    The per-agent view (an agent's open load, median first response and CSAT
    over 7 days) does not depend on the customer, so it is not cached here:
    the API adds it when asked (``?agent=``, see ``enrichment.realtime.agent_stats``)."""

    key = "agent_performance"
    section = AgentPerformance
    ttl = 600
    depends_on = ("support_history",)
    MAX_AGENTS = 3

    def planned_queries(self, request: ProviderRequest) -> list[PlannedQuery]:
        return ticket_agents_rated_planned(customer_pk=request.customer.pk)

    def fetch_many(self, requests: Sequence[ProviderRequest], *, sections: Sections) -> dict[int, AgentPerformance]:
        rated = []
        for request in requests:
            support: SupportHistory | None = sections.get(request.customer.pk, {}).get("support_history")
            if support is None or support.csat_responses:  # no rating at all: nothing to rank, no query
                rated.append(request.customer.pk)
        rows = ticket_agents_rated(customer_pks=rated) if rated else {}
        return {r.customer.pk: self._section(rows.get(r.customer.pk, [])) for r in requests}

    def _section(self, rows: list[dict[str, Any]]) -> AgentPerformance:
        agents = [
            AgentStat(
                agent_id=row["assignee_id"],
                username=row["assignee__username"],
                name=f"{row['assignee__first_name']} {row['assignee__last_name']}".strip(),
                tickets_solved=row["solved"],
                avg_csat=round(row["csat_sum"] / row["csat_n"], 2) if row["csat_n"] else None,
                csat_responses=row["csat_n"],
            )
            for row in rows
        ]
        agents.sort(key=lambda a: (-(a.avg_csat or 0), -a.csat_responses, a.username))
        return AgentPerformance(best_agents=tuple(agents[: self.MAX_AGENTS]), agents_rated=len(agents))
