"""EnrichedContext's JSON contract (enrichment/context/enriched.py, codec.py):
a lossless round trip through real JSON, the top-level layout, the summary, and
extension sections (registry.py). Pure Python, no database."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from decimal import Decimal

import pytest

from enrichment.context.enriched import SCHEMA_VERSION, SECTION_TYPES, EnrichedContext
from enrichment.context.registry import BUILTIN_SECTIONS, RESERVED_KEYS, register_section, reset_sections, section_types
from enrichment.context.sections import (
    AccountHealth,
    ChurnFactor,
    ChurnModelInfo,
    CompanyEnrichment,
    CustomerIntelligence,
    Degraded,
    EngagementMetrics,
    FeatureUsage,
    Flag,
    HealthFactor,
    IncidentBrief,
    NewsItem,
    ProductStatus,
    SourceInfo,
    SubscriptionDetails,
    SupportHistory,
    TicketBrief,
)

UTC = dt.UTC
PARIS = dt.timezone(dt.timedelta(hours=1))
NOW = dt.datetime(2025, 11, 14, 9, 30, 15, 123456, tzinfo=UTC)

SUMMARY_KEYS = {
    "company_name",
    "plan",
    "health_score",
    "churn_risk",
    "churn_risk_level",
    "login_count_30d",
    "open_tickets",
    "days_to_renewal",
    "has_critical_issues",
    "has_opportunities",
    "cache_hit",
    "lifecycle",  # added after the seed's eleven
}


OPEN_BRIEF = TicketBrief(
    id=981,
    subject="Cannot export report",
    status="open",
    priority="urgent",
    category="bug",
    created_at=dt.datetime(2025, 11, 12, 16, 0, tzinfo=UTC),
    csat=None,
    channel="chat",
    updated_at=dt.datetime(2025, 11, 12, 17, 0, tzinfo=UTC),
)


def full_context() -> EnrichedContext:
    """Every section and every nested type populated with non-default values."""
    flags = (
        Flag(
            "payment_failed",
            "red",
            "Payment failed - subscription past due",
            {"status": "past_due", "failed_invoices_90d": 2, "overdue_invoices": 1},
        ),
        Flag("seats_underused", "yellow", "Only 3/10 seats in use", {"seats_used": 3, "seats_purchased": 10}),
        Flag(
            "high_csat",
            "green",
            "High CSAT scores - ask for referral",
            {"avg_csat": 4.6, "csat_responses": 12, "nested": {"ratings": [5, 4, 5]}, "note": None},
        ),
    )
    ctx = EnrichedContext(
        customer_intelligence=CustomerIntelligence(
            customer_id="customer_123",
            company_name="Acme Corp",
            domain="acme.com",
            industry="Technology",
            region="eu",
            account_owner="Sam Owner",
            plan="premium",
            plan_name="Premium",
            mrr=Decimal("1125.50"),
            health_score=42,
            health_label="At Risk",
            churn_risk=0.73,
            churn_risk_level="high",
            customer_since=dt.date(2024, 6, 15),
            days_as_customer=517,
            lifecycle="past_due",
            # Only a canceled account has these; populated here to round-trip their types.
            last_mrr=Decimal("980.00"),
            canceled_at=dt.date(2023, 1, 31),
        ),
        engagement_metrics=EngagementMetrics(
            login_count_30d=45,
            login_count_prev_30d=40,
            login_trend_pct=12.5,
            last_login_at=dt.datetime(2025, 11, 14, 7, 5, tzinfo=PARIS),
            active_days_30d=19,
            most_used_features=("projects", "tasks", "reports"),
            feature_usage_30d=(FeatureUsage("projects", 60), FeatureUsage("tasks", 45), FeatureUsage("reports", 30)),
            features_used_30d=4,
            features_available=8,
            feature_adoption_score=0.5,
            api_calls_30d=1200,
            errors_30d=3,
        ),
        support_history=SupportHistory(
            total_conversations=12,
            open_tickets=2,
            urgent_open_tickets=1,
            tickets_30d=3,
            avg_csat=4.5,
            csat_responses=10,
            common_issues=("billing", "how_to"),
            avg_first_response_hours=1.75,
            last_ticket_at=dt.datetime(2025, 11, 12, 16, 0, tzinfo=UTC),
            recent_tickets=(
                OPEN_BRIEF,
                TicketBrief(
                    id=977,
                    subject="Invoice question",
                    status="solved",
                    priority="normal",
                    category="billing",
                    created_at=dt.datetime(2025, 11, 1, 10, 0, tzinfo=PARIS),
                    csat=5,
                    channel="email",
                    updated_at=dt.datetime(2025, 11, 2, 10, 0, tzinfo=PARIS),
                ),
            ),
            open_ticket_list=(OPEN_BRIEF,),
        ),
        subscription_details=SubscriptionDetails(
            status="past_due",
            plan="premium",
            billing_cycle="monthly",
            seats_purchased=10,
            seats_used=3,
            seat_utilization=0.3,
            mrr=Decimal("1125.50"),
            started_at=dt.date(2024, 6, 15),
            renewal_date=dt.date(2025, 12, 12),
            days_to_renewal=28,
            is_trial=False,
            trial_ends_at=dt.date(2024, 6, 29),
            days_to_trial_end=None,
            failed_invoices_90d=2,
            overdue_invoices=1,
            last_invoice_status="failed",
            canceled_at=dt.date(2023, 1, 31),
            last_mrr=Decimal("980.00"),
        ),
        account_health=AccountHealth(
            health_score=42,
            health_label="At Risk",
            churn_risk=0.73,
            churn_risk_level="high",
            red_flags=("Payment failed - subscription past due",),
            yellow_flags=("Only 3/10 seats in use",),
            green_flags=("High CSAT scores - ask for referral",),
            breakdown=(
                HealthFactor("engagement", 4.5, 25.0, 22.5, "logins_30d per seat / 5"),
                HealthFactor("login_trend", None, 15.0, 15.0, "no logins in the previous 30 days: 1 if active now, else 0.5"),
                HealthFactor("payment", None, 15.0, 0.0, "past due or a failed invoice in 90 days"),
                HealthFactor("tenure", 17.0, 5.0, 5.0, "months as customer / 12"),
            ),
            flags=flags,
            churn_model=ChurnModelInfo(
                source="model", version=3, factors=(ChurnFactor("errors", "40 errors in 30 days raises the risk", 0.812),)
            ),
        ),
        company_enrichment=CompanyEnrichment(
            name="Acme Corporation",
            domain="acme.com",
            description="Makes everything.",
            industry="Manufacturing",
            employees=250,
            employees_range="201-500",
            founded_year=1999,
            location="Springfield, US",
            funding_total_usd=12_500_000,
            last_funding_type="series_a",
            last_funding_at=dt.date(2023, 3, 1),
            news=(
                NewsItem("Acme raises Series A", "https://news.example/acme-a", "Example News", dt.datetime(2023, 3, 2, 8, 0, tzinfo=UTC)),
                NewsItem("Acme opens Berlin office", "https://news.example/acme-berlin", "Wire", None),
            ),
            data_fetched_at=dt.datetime(2023, 3, 3, 9, 30, tzinfo=UTC),
        ),
        product_status=ProductStatus(
            status="degraded_performance",
            active_incidents=(
                IncidentBrief(
                    title="Slow report exports",
                    impact="minor",
                    status="investigating",
                    started_at=dt.datetime(2025, 11, 14, 8, 0, tzinfo=UTC),
                    affects_customer=True,
                    components=("reports", "exports"),
                    source="statuspage",
                ),
            ),
            incidents_affecting_customer=1,
        ),
        enriched_at=NOW,
        cache_hit=True,
        enrichment_latency_ms=12.34,
        sources={
            "customer_intelligence": SourceInfo(
                "CustomerIntelligenceProvider", "database", NOW - dt.timedelta(seconds=30), 300, False, "l2", 1.25
            ),
            "company_enrichment": SourceInfo(
                "ClearbitProvider", "clearbit", dt.datetime(2025, 11, 13, 2, 0, tzinfo=PARIS), 86400, True, "l1", 0.5
            ),
        },
        degraded=(Degraded("product_status", "timeout after 500 ms"), Degraded("company_enrichment", "stale")),
    )
    return with_optional_fields(ctx)


def with_optional_fields(ctx: EnrichedContext) -> EnrichedContext:
    """Fill fields that newer versions of the sections add (left at their default
    they would not be exercised by the round trip)."""
    engagement_fields = {f.name for f in dataclasses.fields(EngagementMetrics)}
    if "daily_logins_30d" in engagement_fields:
        daily = tuple((i * 7) % 5 for i in range(30))
        ctx = ctx.replace(engagement_metrics=dataclasses.replace(ctx.engagement_metrics, daily_logins_30d=daily))
    ctx = _with_realtime_fields(ctx)
    return ctx


def _with_realtime_fields(ctx: EnrichedContext) -> EnrichedContext:
    """Issue 7: product status details, current activity, agent performance,
    next actions and section versions."""
    from enrichment.context.sections import AgentPerformance, AgentStat, CurrentActivity, FeatureUsage, NextAction

    status = ctx.product_status
    incident = dataclasses.replace(status.active_incidents[0], id="sp_abc123")
    ctx = ctx.replace(
        product_status=dataclasses.replace(
            status,
            active_incidents=(incident,),
            other_incidents=2,
            summary="1 active incident affects this customer (degraded performance). 2 other active incidents do not affect them.",
            statuspage_indicator="minor",
            statuspage_description="Partially Degraded Service",
            degraded_components=("Reports",),
        ),
        current_activity=CurrentActivity(
            window_minutes=15,
            active_users=3,
            events=12,
            logins=2,
            api_calls=4,
            errors=1,
            features=(FeatureUsage("reports", 5),),
            error_features=("exports",),
            last_event_at=NOW - dt.timedelta(minutes=2),
            source="redis",
        ),
        agent_performance=AgentPerformance(
            best_agents=(AgentStat(agent_id=7, username="sam", name="Sam Agent", tickets_solved=4, avg_csat=4.75, csat_responses=4),),
            agents_rated=2,
        ),
        next_actions=(NextAction("update_payment_method", "high", "Point them to the billing portal.", ("payment_failed",)),),
    )
    sources = {key: dataclasses.replace(src, version="v1") for key, src in ctx.sources.items()}
    return ctx.replace(sources=sources)


def round_trip(ctx: EnrichedContext) -> EnrichedContext:
    return EnrichedContext.from_dict(json.loads(json.dumps(ctx.to_dict())))


# Fields legitimately left empty/false in the fixture (the fixture sets a
# value of the field's type elsewhere, e.g. another ticket's csat).
# ``extensions``: no extension section is registered here (see the tests at the end).
MAY_BE_EMPTY = {"is_trial", "stale", "days_to_trial_end", "csat", "published_at", "raw", "note", "extensions"}


def test_every_field_of_the_full_context_is_populated():
    """Guards the fixture: a field left at its default would not be round-trip tested."""
    ctx = full_context()

    def check(obj, path):
        for f in dataclasses.fields(obj):
            value = getattr(obj, f.name)
            if f.name in MAY_BE_EMPTY or isinstance(value, bool):
                continue
            assert value is not None, f"{path}.{f.name} left None"
            if isinstance(value, (str, tuple, dict)):
                assert value, f"{path}.{f.name} left empty"
            if dataclasses.is_dataclass(value):
                check(value, f"{path}.{f.name}")

    check(ctx, "ctx")
    for name, section_type in SECTION_TYPES.items():
        assert getattr(ctx, name) != section_type(), name


def test_full_context_survives_json_round_trip():
    ctx = full_context()
    assert round_trip(ctx) == ctx


def test_round_trip_restores_python_types():
    back = round_trip(full_context())
    assert isinstance(back.customer_intelligence.mrr, Decimal)
    assert back.customer_intelligence.mrr == Decimal("1125.50")
    assert str(back.subscription_details.mrr) == "1125.50"
    assert isinstance(back.customer_intelligence.customer_since, dt.date)
    assert not isinstance(back.customer_intelligence.customer_since, dt.datetime)
    assert back.engagement_metrics.last_login_at.utcoffset() == dt.timedelta(hours=1)
    assert back.enriched_at == NOW
    assert back.enriched_at.tzinfo is not None
    assert isinstance(back.engagement_metrics.most_used_features, tuple)
    assert isinstance(back.engagement_metrics.feature_usage_30d[0], FeatureUsage)
    assert isinstance(back.support_history.recent_tickets[0], TicketBrief)
    assert isinstance(back.support_history.recent_tickets[0].created_at, dt.datetime)
    assert isinstance(back.company_enrichment, CompanyEnrichment)
    assert isinstance(back.company_enrichment.news[0], NewsItem)
    assert back.company_enrichment.news[1].published_at is None
    assert isinstance(back.product_status.active_incidents[0], IncidentBrief)
    assert back.product_status.active_incidents[0].components == ("reports", "exports")
    assert isinstance(back.sources["company_enrichment"], SourceInfo)
    assert back.sources["company_enrichment"].stale is True
    assert isinstance(back.degraded[0], Degraded)
    assert isinstance(back.account_health.flags[0], Flag)
    assert back.account_health.flags[2].evidence == {"avg_csat": 4.6, "csat_responses": 12, "nested": {"ratings": [5, 4, 5]}, "note": None}
    assert isinstance(back.account_health.breakdown[0], HealthFactor)
    assert back.account_health.breakdown[1].raw is None


def test_to_dict_is_plain_json_with_decimal_as_string_and_iso_dates():
    data = full_context().to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["customer_intelligence"]["mrr"] == "1125.50"
    assert data["customer_intelligence"]["customer_since"] == "2024-06-15"
    assert data["enriched_at"] == "2025-11-14T09:30:15.123456+00:00"
    assert data["engagement_metrics"]["last_login_at"] == "2025-11-14T07:05:00+01:00"
    assert data["schema_version"] == SCHEMA_VERSION


def test_to_dict_puts_health_breakdown_and_flags_at_top_level_not_in_account_health():
    data = full_context().to_dict()
    assert "health_breakdown" in data
    assert "flags" in data
    assert "breakdown" not in data["account_health"]
    assert "flags" not in data["account_health"]
    assert "health_breakdown" not in data["account_health"]
    assert data["health_breakdown"][0] == {
        "factor": "engagement",
        "raw": 4.5,
        "weight": 25.0,
        "points": 22.5,
        "rule": "logins_30d per seat / 5",
    }
    assert data["flags"][0] == {
        "code": "payment_failed",
        "level": "red",
        "message": "Payment failed - subscription past due",
        "evidence": {"status": "past_due", "failed_invoices_90d": 2, "overdue_invoices": 1},
    }
    assert [f["level"] for f in data["flags"]] == ["red", "yellow", "green"]
    assert data["account_health"]["red_flags"] == ["Payment failed - subscription past due"]


def test_to_dict_top_level_keys():
    data = full_context().to_dict()
    assert {
        "customer_intelligence",
        "engagement_metrics",
        "support_history",
        "subscription_details",
        "account_health",
        "company_enrichment",
        "product_status",
        "enriched_at",
        "cache_hit",
        "enrichment_latency_ms",
        "health_breakdown",
        "flags",
        "sources",
        "degraded",
        "schema_version",
    } <= set(data)


def test_to_dict_does_not_mutate_the_context_and_can_be_called_twice():
    ctx = full_context()
    first = ctx.to_dict()
    second = ctx.to_dict()
    assert first == second
    assert ctx.account_health.flags and ctx.account_health.breakdown


def test_from_dict_does_not_mutate_its_input():
    data = json.loads(json.dumps(full_context().to_dict()))
    snapshot = json.loads(json.dumps(data))
    EnrichedContext.from_dict(data)
    assert data == snapshot


def test_company_enrichment_none_round_trips():
    ctx = full_context().replace(company_enrichment=None)
    data = ctx.to_dict()
    assert data["company_enrichment"] is None
    back = round_trip(ctx)
    assert back.company_enrichment is None
    assert back == ctx


def test_default_context_round_trips():
    ctx = EnrichedContext()
    assert round_trip(ctx) == ctx


def test_round_trip_is_stable_through_two_passes():
    once = round_trip(full_context())
    assert round_trip(once) == once
    assert json.dumps(once.to_dict(), sort_keys=True) == json.dumps(full_context().to_dict(), sort_keys=True)


def test_flags_and_breakdown_properties_read_account_health():
    ctx = full_context()
    assert ctx.flags == ctx.account_health.flags
    assert ctx.health_breakdown == ctx.account_health.breakdown
    assert ctx.customer_id == "customer_123"
    assert ctx.is_degraded is True
    assert EnrichedContext().is_degraded is False


# --- get_summary --------------------------------------------------------------------


def test_get_summary_returns_the_eleven_seed_keys_then_lifecycle_with_values():
    summary = full_context().get_summary()
    assert set(summary) == SUMMARY_KEYS
    assert len(summary) == 12
    assert summary == {
        "company_name": "Acme Corp",
        "plan": "premium",
        "health_score": 42,
        "churn_risk": 0.73,
        "churn_risk_level": "high",
        "login_count_30d": 45,
        "open_tickets": 2,
        "days_to_renewal": 28,
        "has_critical_issues": True,
        "has_opportunities": True,
        "cache_hit": True,
        "lifecycle": "past_due",
    }


def test_get_summary_without_red_or_green_flags():
    ctx = full_context()
    calm = ctx.replace(
        account_health=dataclasses.replace(ctx.account_health, red_flags=(), green_flags=(), flags=()),
        subscription_details=dataclasses.replace(ctx.subscription_details, days_to_renewal=None),
        cache_hit=False,
    )
    summary = calm.get_summary()
    assert set(summary) == SUMMARY_KEYS
    assert summary["has_critical_issues"] is False
    assert summary["has_opportunities"] is False
    assert summary["days_to_renewal"] is None
    assert summary["cache_hit"] is False


def test_get_summary_is_json_serialisable_and_survives_round_trip():
    ctx = full_context()
    summary = ctx.get_summary()
    assert json.loads(json.dumps(summary)) == summary
    assert round_trip(ctx).get_summary() == summary


def test_get_summary_of_default_context():
    summary = EnrichedContext().get_summary()
    assert set(summary) == SUMMARY_KEYS
    assert summary["has_critical_issues"] is False
    assert summary["has_opportunities"] is False
    assert summary["days_to_renewal"] is None


# --- extension sections (enrichment/context/registry.py) ---------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class Review:
    rating: float | None = None
    reviewed_at: dt.datetime | None = None
    price: Decimal = Decimal("0.00")
    tags: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True, slots=True)
class Survey:
    score: int = 0
    reviews: tuple[Review, ...] = ()


SURVEY = Survey(score=42, reviews=(Review(4.5, NOW, Decimal("9.90"), ("fast", "kind")), Review()))


@pytest.fixture
def survey_registered():
    register_section("survey", Survey, title="Survey")
    yield
    reset_sections()


def test_assemble_routes_built_in_keys_to_fields_and_the_rest_to_extensions():
    ctx = full_context()
    sections = {name: getattr(ctx, name) for name in SECTION_TYPES}
    built = EnrichedContext.assemble({**sections, "next_actions": ctx.next_actions, "survey": SURVEY, "empty": None}, sources=ctx.sources)
    assert built.extensions == {"survey": SURVEY}
    assert built.customer_intelligence == ctx.customer_intelligence and built.next_actions == ctx.next_actions
    assert built.sources == ctx.sources
    assert built.section("survey") is SURVEY and built.section("support_history") is ctx.support_history
    assert built.section("nothing_here") is None
    assert EnrichedContext.assemble({}) == EnrichedContext()


@pytest.mark.parametrize("key", ["flags", "health_breakdown", "customer_id", "extensions", "prompt"])
def test_assemble_refuses_top_level_keys_that_are_not_sections(key):
    with pytest.raises(ValueError, match=key):
        EnrichedContext.assemble({key: SURVEY})


def test_extension_sections_are_rendered_after_the_built_ins():
    data = full_context().replace(extensions={"survey": SURVEY}).to_dict()
    keys = list(data)
    assert keys[-1] == "survey" and "extensions" not in data
    assert data["survey"] == {
        "score": 42,
        "reviews": [
            {"rating": 4.5, "reviewed_at": "2025-11-14T09:30:15.123456+00:00", "price": "9.90", "tags": ["fast", "kind"]},
            {"rating": None, "reviewed_at": None, "price": "0.00", "tags": []},
        ],
    }
    without = full_context().to_dict()
    assert {k: v for k, v in data.items() if k != "survey"} == without


def test_registered_extension_survives_json_round_trip(survey_registered):
    ctx = full_context().replace(extensions={"survey": SURVEY})
    back = round_trip(ctx)
    assert back == ctx
    assert isinstance(back.section("survey").reviews[0].price, Decimal)


def test_unregistered_extension_is_left_out_when_decoding():
    ctx = full_context().replace(extensions={"survey": SURVEY})
    assert round_trip(ctx) == full_context()


def test_lazy_context_decodes_registered_extensions(survey_registered):
    from enrichment.context.lazy import LazyEnrichedContext

    ctx = full_context().replace(extensions={"survey": SURVEY})
    lazy = LazyEnrichedContext(json.loads(json.dumps(ctx.to_dict())), tier="l2")
    assert lazy.section("survey") == SURVEY
    assert lazy.extensions == {"survey": SURVEY}
    assert lazy.materialize().extensions == {"survey": SURVEY}
    assert lazy.to_dict()["survey"] == ctx.to_dict()["survey"]


def test_every_field_of_the_context_is_a_section_or_a_reserved_key():
    names = {f.name for f in dataclasses.fields(EnrichedContext)}
    assert names <= set(SECTION_TYPES) | RESERVED_KEYS
    assert set(SECTION_TYPES) == set(BUILTIN_SECTIONS) and section_types() == dict(BUILTIN_SECTIONS)


# --- to_json: the same document as to_dict, written by orjson ---------------------------------------


def same_document(ctx: EnrichedContext) -> None:
    """``to_json()`` parses to ``to_dict()`` through the standard library's
    JSON, key for key and in the same order, at every level."""
    expected = json.loads(json.dumps(ctx.to_dict()))
    got = json.loads(ctx.to_json())
    assert got == expected

    def keys(value):  # the key order of every object in the document
        if isinstance(value, dict):
            return [(key, keys(item)) for key, item in value.items()]
        if isinstance(value, list):
            return [keys(item) for item in value]
        return None

    assert keys(got) == keys(expected)


def test_to_json_is_to_dict_as_json():
    same_document(full_context())
    same_document(EnrichedContext())
    same_document(full_context().replace(company_enrichment=None, degraded=()))


def test_to_json_with_an_extension_section():
    same_document(full_context().replace(extensions={"survey": SURVEY}))


def test_to_json_writes_decimals_as_strings_and_datetimes_as_isoformat():
    data = json.loads(full_context().to_json())
    assert data["customer_intelligence"]["mrr"] == "1125.50"
    assert data["engagement_metrics"]["last_login_at"] == "2025-11-14T07:05:00+01:00"
    assert data["enriched_at"] == NOW.isoformat()
    assert data["customer_intelligence"]["customer_since"] == "2024-06-15"


def test_to_json_falls_back_for_what_orjson_does_not_write():
    """Flag evidence is free-form: keys that are not strings (to_dict writes
    them as strings), a float subclass, an integer beyond 64 bits."""

    class Ratio(float):
        pass

    odd = Flag("odd", "yellow", "Odd evidence", {"by_day": {dt.date(2025, 1, 2): 3, 7: "x"}, "ratio": Ratio(0.25), "big": 2**70})
    health = dataclasses.replace(full_context().account_health, flags=(odd,))
    same_document(full_context().replace(account_health=health))


def test_to_json_round_trips_through_from_dict():
    ctx = full_context()
    assert EnrichedContext.from_dict(json.loads(ctx.to_json())) == ctx
