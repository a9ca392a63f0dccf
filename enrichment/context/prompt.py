"""The ``<customer_context>`` block for an LLM prompt.

Layout follows the seed document line for line. Two guarantees on top:

**Prompt-safe.** Every string that a customer or a third party controls goes
through :func:`safe_text`: control, format (zero-width, bidi) and separator
characters are removed, newlines and tabs fold into spaces, ``<`` and ``>``
become ``‹`` and ``›`` (so no input can open or close a tag), and the length is
capped. Since no input can contain a newline, no input can start a line: every
line of the block begins with a label this module wrote.

**Fits a budget.** With ``max_chars``, whole parts are dropped, least important
first, until the block fits, and a last line says what was left out. The order
(:data:`DROP_ORDER`): company enrichment, opportunities, product status
details, most-used features, subscription, support history, recent activity,
warnings, profile details (industry, customer since). Never dropped: the
header lines (company, plan, MRR, health, churn risk) and the critical issues.

Two parts exist only sometimes and have their place in that order too
(:data:`FULL_DROP_ORDER`): **Suggested actions:** (after the flags, when a rule
of :mod:`enrichment.rules.actions` fires; dropped right after the opportunities) and
**Changes since last contact:** (last, only when ``changes`` is given; dropped
right after the most-used features). A healthy account with no action and no
``changes`` renders exactly the seed's layout.

**Lifecycle.** An account that is not simply active says so in the header,
which is never dropped (``Lifecycle: canceled``); past dates never read as
future ones. The exact phrases: :mod:`enrichment.context.lifecycle`.

**Extension sections.** A provider with a section of its own (see
:mod:`enrichment.context.registry`) gets a part of its own: ``<title>:`` and
up to :data:`MAX_EXTENSION_LINES` lines ``- <line>`` from its
``prompt_lines``, each made safe by :func:`safe_text`. These parts come after
the product status and before the flags, in the order of
``ENRICHMENT_PROVIDERS``, and are dropped **first**, before everything in
:data:`FULL_DROP_ORDER` (in the order they appear); the omitted line names them
by key (``nps survey``). A section not declared customer-facing is left out
whenever ``hide`` is given (a restricted audience). Without extension
sections the block is exactly what it was before they existed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import structlog

from enrichment.context.churn_phrases import churn_model_phrase
from enrichment.context.conversation_lines import as_of_line, open_ticket_lines, requester_lines, ticket_focus_lines
from enrichment.context.lifecycle import churn_phrase, mrr_phrase, status_phrase, subscription_dates
from enrichment.context.registry import extension_sections
from enrichment.context.safe_text import safe_text

if TYPE_CHECKING:
    from enrichment.context.enriched import EnrichedContext
    from enrichment.context.requester import Conversation
    from enrichment.context.sections import (
        CompanyEnrichment,
        EngagementMetrics,
        NextAction,
        ProductStatus,
        SubscriptionDetails,
        SupportHistory,
    )

logger = structlog.get_logger(__name__)


class ContextChanges(Protocol):
    """What the "Changes since last contact:" part reads (implemented by
    :class:`enrichment.history.snapshots.ContextChanges`)."""

    since: dt.datetime | None
    since_last_contact: bool
    last_contact_at: dt.datetime | None
    baseline: Any
    new_tickets: Any

    def lines(self) -> list[str]: ...

OPEN_TAG = "<customer_context>"
CLOSE_TAG = "</customer_context>"

# Fields a restricted audience may not see; see ``hide`` below. Any non-empty
# ``hide`` also leaves out the extension sections not declared customer-facing.
HIDEABLE = frozenset({"mrr", "churn_risk", "health_breakdown", "revenue"})

DROP_ORDER = (
    "company_enrichment",
    "opportunities",
    "product_status",
    "features",
    "subscription",
    "support",
    "activity",
    "warnings",
    "profile",
)
# With the optional parts: where "suggested_actions" and "changes" are dropped.
# The parts of extension sections ("extension:<key>") are dropped before all of these.
OPTIONAL_PARTS = ("suggested_actions", "changes", "open_tickets", "requester")
FULL_DROP_ORDER = (
    "company_enrichment",
    "opportunities",
    "suggested_actions",
    "product_status",
    "features",
    "changes",
    "subscription",
    "support",
    "open_tickets",
    "activity",
    "requester",
    "warnings",
    "profile",
)
assert tuple(p for p in FULL_DROP_ORDER if p not in OPTIONAL_PARTS) == DROP_ORDER
MAX_ACTIONS = 4
MAX_CHANGE_LINES = 8
MAX_EXTENSION_LINES = 6
EXTENSION_LINE_LIMIT = 200
EXTENSION_PREFIX = "extension:"  # part names of extension sections: "extension:<key>"

def _title(value: str) -> str:
    return safe_text(value.replace("_", " "), limit=40).title()


def _days(n: int) -> str:
    return f"{n} day{'' if n == 1 else 's'}"


@dataclass
class _Part:
    name: str
    lines: list[str]
    droppable: bool = True
    label: str = ""  # how the omitted line names it; default: the name

    @property
    def omitted_label(self) -> str:
        return self.label or self.name.replace("_", " ")


def _header_parts(ctx: EnrichedContext, hide: frozenset[str], plan: str) -> list[_Part]:
    intel = ctx.customer_intelligence
    health = ctx.account_health
    header = [f"Company: {safe_text(intel.company_name, limit=120)}"]
    profile = [f"Industry: {safe_text(intel.industry or 'unknown', limit=60)}"]
    head2 = [f"Plan: {plan}"]
    if intel.lifecycle not in ("active", "unknown"):
        head2.append(f"Lifecycle: {safe_text(intel.lifecycle, limit=40)}")
    if "mrr" not in hide and "revenue" not in hide:
        head2.append(f"MRR: {mrr_phrase(intel.mrr, intel.last_mrr)}")
    head2.append(f"Health Score: {health.health_score}/100 ({health.health_label})")
    if "churn_risk" not in hide:
        head2.append(f"Churn Risk: {churn_phrase(health.churn_risk, health.churn_risk_level)}")
    if "churn_risk" not in hide and (model_phrase := churn_model_phrase(health.churn_model)):
        head2.append(f"Churn Model: {safe_text(model_phrase, limit=400)}")  # only when a learned model serves
    since = []
    if intel.customer_since:
        since.append(f"Customer Since: {intel.customer_since.isoformat()} ({_days(intel.days_as_customer)})")
    return [
        _Part("header", header, droppable=False),
        _Part("profile", profile),
        _Part("header2", head2, droppable=False),
        _Part("profile", since),
    ]


def _activity_parts(eng: EngagementMetrics) -> list[_Part]:
    last_login = eng.last_login_at.strftime("%Y-%m-%d %H:%M") if eng.last_login_at else "none recorded"
    activity = [
        "",
        "Recent Activity:",
        f"- Last login: {last_login}",
        f"- Login frequency: {eng.login_count_30d} times (last 30 days)",
    ]
    features = []
    if eng.most_used_features:
        names = ", ".join(_title(f) for f in eng.most_used_features[:3])
        features.append(f"- Most used features: {names}")
    return [_Part("activity", activity), _Part("features", features)]


def _support_lines(sup: SupportHistory) -> list[str]:
    csat = f"{sup.avg_csat:.1f}/5" if sup.avg_csat is not None else "no ratings yet"
    support = ["", "Support History:", f"- Total conversations: {sup.total_conversations}", f"- Average CSAT: {csat}"]
    if sup.urgent_open_tickets:
        support.append(f"- Open tickets: {sup.open_tickets} ({sup.urgent_open_tickets} urgent)")
    return support


def _subscription_lines(sub: SubscriptionDetails) -> list[str]:
    """The plan is in the header only; a trial's end and the renewal after it
    are worded apart (``subscription_lines`` in :mod:`enrichment.context.lifecycle`)."""
    subscription = ["", "Subscription:", f"- Seats: {sub.seats_used}/{sub.seats_purchased}"]
    subscription.extend(f"- {label}: {text}" for label, text in subscription_dates(sub))
    if sub.status not in ("active", "trialing"):
        subscription.append(f"- Status: {safe_text(status_phrase(sub.status), limit=40)}")
    return subscription


def _company_lines(ce: CompanyEnrichment | None) -> list[str]:
    if ce is None:
        return []
    company = ["", "Company Profile (external):"]
    if ce.description:
        company.append(f"- About: {safe_text(ce.description, limit=200)}")
    if ce.employees or ce.employees_range:
        company.append(f"- Employees: {ce.employees or safe_text(ce.employees_range, limit=20)}")
    if ce.funding_total_usd:
        kind = f" ({_title(ce.last_funding_type)})" if ce.last_funding_type else ""
        company.append(f"- Funding: ${ce.funding_total_usd:,}{kind}")
    for item in ce.news[:3]:
        company.append(f"- News: {safe_text(item.title, limit=140)} ({safe_text(item.source, limit=40)})")
    return company if len(company) > 2 else []


def _status_lines(status: ProductStatus) -> list[str]:
    affecting = [i for i in status.active_incidents if i.affects_customer]
    if not affecting:
        return []
    return [
        "",
        "Product Status:",
        *(f"- {safe_text(i.title, limit=140)} ({safe_text(i.impact, limit=20)}, {safe_text(i.status, limit=30)})" for i in affecting[:3]),
    ]


def _flag_block(title: str, messages: tuple[str, ...]) -> list[str]:
    if not messages:
        return []
    return ["", title, *(f"- {safe_text(m, limit=200)}" for m in messages)]


def _actions_lines(actions: tuple[NextAction, ...]) -> list[str]:
    if not actions:
        return []
    return ["", "Suggested actions:", *(f"- {safe_text(a.message, limit=240)}" for a in actions[:MAX_ACTIONS])]


def _changes_lines(changes: ContextChanges | None, hide: frozenset[str]) -> list[str]:
    if changes is None:
        return []
    if changes.since_last_contact:
        when = changes.last_contact_at
        title = f"Changes since last contact ({when:%Y-%m-%d %H:%M}):" if when else "Changes since last contact:"
    else:
        title = f"Changes since {changes.since:%Y-%m-%d %H:%M}:" if changes.since else "Changes:"
    lines = changes.lines() if (changes.baseline is not None or changes.new_tickets) else []
    if "churn_risk" in hide:
        lines = [line for line in lines if not line.startswith("Churn risk")]
    body = [f"- {safe_text(line, limit=200)}" for line in lines[:MAX_CHANGE_LINES]]
    if len(lines) > MAX_CHANGE_LINES:
        body.append(f"- and {len(lines) - MAX_CHANGE_LINES} more")
    if not body:
        body = ["- No previous contact on record" if changes.since is None else "- Nothing changed in substance"]
    return ["", title, *body]


def extension_blocks(ctx: EnrichedContext, *, customer_facing_only: bool) -> list[tuple[str, list[str]]]:
    """``(key, lines)`` per registered extension section the context has, in
    registration order; with ``customer_facing_only`` only sections declared
    customer-facing. A provider's lines are made safe here; a provider whose
    ``prompt_lines`` fails loses its part only."""
    blocks: list[tuple[str, list[str]]] = []
    for key, spec in extension_sections().items():
        section = ctx.extensions.get(key)
        if section is None or spec.prompt_lines is None or (customer_facing_only and not spec.customer_facing):
            continue
        try:
            raw = list(spec.prompt_lines(section))
        except Exception as exc:  # noqa: BLE001 - a provider's renderer must not break the block
            logger.warning("prompt_extension_failed", section=key, error=type(exc).__name__)
            continue
        lines = [text for text in (safe_text(line, limit=EXTENSION_LINE_LIMIT) for line in raw) if text]
        if lines:
            title = safe_text(spec.title, limit=60) or key
            blocks.append((key, ["", f"{title}:", *(f"- {line}" for line in lines[:MAX_EXTENSION_LINES])]))
    return blocks


def _extension_parts(ctx: EnrichedContext, hide: frozenset[str]) -> list[_Part]:
    """One part per extension section; with any ``hide`` (a restricted
    audience) only sections declared customer-facing."""
    return [
        _Part(EXTENSION_PREFIX + key, lines, label=key.replace("_", " "))
        for key, lines in extension_blocks(ctx, customer_facing_only=bool(hide))
    ]


def _conversation_parts(ctx: EnrichedContext, conversation: Conversation | None) -> list[_Part]:
    if conversation is None:
        return []
    now = conversation.as_of or ctx.enriched_at or dt.datetime.now(dt.UTC)
    parts = []
    if conversation.requester is not None:
        parts.append(_Part("requester", requester_lines(conversation.requester, now=now)))
    if conversation.ticket is not None:
        parts.append(_Part("ticket", ticket_focus_lines(conversation.ticket, now=now), droppable=False, label="ticket"))
    return parts


def _parts(
    ctx: EnrichedContext, hide: frozenset[str], changes: ContextChanges | None = None, conversation: Conversation | None = None
) -> list[_Part]:
    health = ctx.account_health
    support = ctx.support_history
    plan = safe_text(ctx.customer_intelligence.plan or ctx.subscription_details.plan or "none", limit=40).upper()
    now = ctx.enriched_at or dt.datetime.now(dt.UTC)
    return [
        _Part("as_of", [as_of_line(ctx.enriched_at)], droppable=False),
        *_header_parts(ctx, hide, plan),
        *_conversation_parts(ctx, conversation),
        *_activity_parts(ctx.engagement_metrics),
        _Part("support", _support_lines(support)),
        _Part("open_tickets", open_ticket_lines(support.open_ticket_list, support.open_tickets, now=now), label="open tickets"),
        _Part("subscription", _subscription_lines(ctx.subscription_details)),
        _Part("company_enrichment", _company_lines(ctx.company_enrichment)),
        _Part("product_status", _status_lines(ctx.product_status)),
        *_extension_parts(ctx, hide),
        _Part("critical", _flag_block("🚨 CRITICAL ISSUES:", health.red_flags), droppable=False),
        _Part("warnings", _flag_block("⚠️ WARNINGS:", health.yellow_flags)),
        _Part("opportunities", _flag_block("✅ OPPORTUNITIES:", health.green_flags)),
        _Part("suggested_actions", _actions_lines(ctx.next_actions)),
        _Part("changes", _changes_lines(changes, hide)),
    ]


def _join(parts: list[_Part], dropped: list[str]) -> str:
    lines = [OPEN_TAG]
    for part in parts:
        if part.name in dropped and part.droppable:
            continue
        lines.extend(part.lines)
    if dropped:
        labels = {part.name: part.omitted_label for part in parts}
        lines.append("")
        lines.append(f"[Omitted to fit the size budget: {', '.join(labels[d] for d in dropped)}]")
    lines.append(CLOSE_TAG)
    return "\n".join(lines)


def render_prompt(
    ctx: EnrichedContext,
    *,
    max_chars: int | None = None,
    hide: frozenset[str] = frozenset(),
    today: dt.date | None = None,
    changes: ContextChanges | None = None,
    conversation: Conversation | None = None,
    omit: frozenset[str] = frozenset(),
) -> str:
    """Render the block. ``hide`` removes fields a restricted audience must not
    see (``mrr``/``revenue``, ``churn_risk``) and, when not empty, every
    extension section not declared customer-facing; ``max_chars`` applies the
    budget; ``changes`` (from :func:`enrichment.history.snapshots.context_changes`)
    adds the "Changes since last contact:" part; ``omit`` leaves out droppable
    parts by name (a context strategy's choice). ``today`` is accepted for
    compatibility; nothing in the block depends on it."""
    parts = _parts(ctx, hide, changes, conversation)
    if omit:  # a strategy's choice (enrichment.experiments.strategies), not a budget cut: not named
        parts = [part for part in parts if not (part.droppable and part.name in omit)]
    text = _join(parts, [])
    if max_chars is None or len(text) <= max_chars:
        return text
    present = {p.name for p in parts if p.lines and p.droppable}
    extensions = [p.name for p in parts if p.name.startswith(EXTENSION_PREFIX)]
    dropped: list[str] = []
    for name in (*extensions, *FULL_DROP_ORDER):
        if name not in present:
            continue
        dropped.append(name)
        text = _join(parts, dropped)
        if len(text) <= max_chars:
            break
    return text
