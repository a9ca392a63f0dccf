"""Suggested next actions: guidance for the agent from combinations of flags.

Pure functions over the sections (no queries), evaluated right after the
account health assessment; the result is ``EnrichedContext.next_actions`` and
the prompt's "Suggested actions:" part. Codes are stable: agents may branch
on them. High-priority actions come first, then in the table's order.

=======================  ========  ===========================================================
code                     priority  when -> guidance
=======================  ========  ===========================================================
acknowledge_incident     high      ``incident_affecting_customer`` -> acknowledge the incident
                                   first and point to the status page
ask_cancellation_reason  high      ``canceled`` -> win-back: ask what made them leave before
                                   anything else
escalate_renewal_risk    high      health under ``RED_HEALTH`` (60) and renewal within
                                   ``RENEWAL_ESCALATION_DAYS`` (14) -> escalate to the account
                                   owner; offer no discount without approval
update_payment_method    high      ``payment_failed`` -> point to the billing portal; promise no
                                   grace period or waiver
review_urgent_tickets    high      ``urgent_tickets_open`` -> read the open urgent tickets first
                                   and continue those threads
convert_expired_trial    high      ``trial_expired`` -> help them pick a plan; promise no
                                   extension without approval
offer_reactivation       normal    ``canceled`` -> win-back: offer to reactivate their plan; no
                                   discount without approval
offer_conversion_call    normal    ``trial_ending`` and ``high_engagement`` -> offer a conversion call
offer_onboarding_help    normal    ``trial_ending`` without ``high_engagement`` -> offer onboarding help
recover_satisfaction     normal    ``low_csat`` -> acknowledge past friction, offer a senior follow-up
reengage_users           normal    ``login_drop`` or ``inactive`` -> ask what changed, offer training
propose_seat_expansion   normal    ``seats_nearly_full`` and ``high_engagement`` -> mention more seats
=======================  ========  ===========================================================

A healthy account with only green flags (like the demo's ``customer_123``)
gets no action: the opportunities already say it. A canceled account gets the
win-back actions instead of re-engagement (its usage, seat and renewal flags
are not raised, see :mod:`enrichment.rules.flags`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from enrichment.context.sections import AccountHealth, CustomerIntelligence, NextAction, ProductStatus, SubscriptionDetails

RED_HEALTH = 60
RENEWAL_ESCALATION_DAYS = 14


@dataclass(frozen=True, slots=True)
class ActionInput:
    codes: frozenset[str]
    health: AccountHealth
    intel: CustomerIntelligence
    subscription: SubscriptionDetails
    product_status: ProductStatus


ActionRule = Callable[[ActionInput], NextAction | None]
ACTION_RULES: dict[str, ActionRule] = {}


def action_rule(code: str) -> Callable[[ActionRule], ActionRule]:
    def register(func: ActionRule) -> ActionRule:
        if code in ACTION_RULES:
            raise ValueError(f"action code {code!r} registered twice")
        ACTION_RULES[code] = func
        return func

    return register


def _days(n: int) -> str:
    return f"{n} day{'' if n == 1 else 's'}"


def _trial_end(days: int | None) -> str:
    days = max(0, days or 0)
    return "the trial ends today" if days == 0 else f"the trial ends in {_days(days)}"


@action_rule("acknowledge_incident")
def acknowledge_incident(d: ActionInput) -> NextAction | None:
    if "incident_affecting_customer" not in d.codes:
        return None
    hits = [i for i in d.product_status.active_incidents if i.affects_customer]
    title = f" ({hits[0].title})" if hits else ""
    return NextAction(
        "acknowledge_incident",
        "high",
        f"Acknowledge the ongoing incident{title} first and share the status page; "
        "do not troubleshoot symptoms it already explains.",
        ("incident_affecting_customer",),
    )


@action_rule("ask_cancellation_reason")
def ask_cancellation_reason(d: ActionInput) -> NextAction | None:
    if "canceled" not in d.codes:
        return None
    when = f" on {d.subscription.canceled_at.isoformat()}" if d.subscription.canceled_at else ""
    return NextAction(
        "ask_cancellation_reason",
        "high",
        f"They canceled{when}: before anything else, ask what made them leave and note the reason.",
        ("canceled",),
    )


@action_rule("escalate_renewal_risk")
def escalate_renewal_risk(d: ActionInput) -> NextAction | None:
    days = d.subscription.days_to_renewal
    if days is None or not 0 <= days <= RENEWAL_ESCALATION_DAYS or d.health.health_score >= RED_HEALTH:
        return None
    owner = d.intel.account_owner or "the account owner"
    return NextAction(
        "escalate_renewal_risk",
        "high",
        f"Escalate to the account owner ({owner}) before promising anything: renewal in {_days(days)} "
        f"with health {d.health.health_score}/100. Offer no discount without approval.",
        ("health_score", "days_to_renewal"),
    )


@action_rule("update_payment_method")
def update_payment_method(d: ActionInput) -> NextAction | None:
    if "payment_failed" not in d.codes:
        return None
    return NextAction(
        "update_payment_method",
        "high",
        "Point them to the billing portal to update the payment method; do not promise a grace period or waive charges.",
        ("payment_failed",),
    )


@action_rule("review_urgent_tickets")
def review_urgent_tickets(d: ActionInput) -> NextAction | None:
    if "urgent_tickets_open" not in d.codes:
        return None
    return NextAction(
        "review_urgent_tickets",
        "high",
        "Read the open urgent ticket(s) before replying and continue those threads rather than starting a new one.",
        ("urgent_tickets_open",),
    )


@action_rule("convert_expired_trial")
def convert_expired_trial(d: ActionInput) -> NextAction | None:
    if "trial_expired" not in d.codes:
        return None
    days = -(d.subscription.days_to_trial_end or 0)
    return NextAction(
        "convert_expired_trial",
        "high",
        f"Their trial ended {_days(days)} ago without converting: help them choose a plan to keep access; "
        "promise no trial extension without approval.",
        ("trial_expired",),
    )


@action_rule("offer_reactivation")
def offer_reactivation(d: ActionInput) -> NextAction | None:
    if "canceled" not in d.codes:
        return None
    plan = (d.subscription.plan or d.intel.plan).replace("_", " ").title()
    what = f"their {plan} plan" if plan else "their account"
    return NextAction(
        "offer_reactivation",
        "normal",
        f"Offer to reactivate {what} where they left off; offer no discount without approval.",
        ("canceled",),
    )


@action_rule("offer_conversion_call")
def offer_conversion_call(d: ActionInput) -> NextAction | None:
    if not {"trial_ending", "high_engagement"} <= d.codes:
        return None
    return NextAction(
        "offer_conversion_call",
        "normal",
        f"They use the product a lot and {_trial_end(d.subscription.days_to_trial_end)}: offer a conversion call.",
        ("trial_ending", "high_engagement"),
    )


@action_rule("offer_onboarding_help")
def offer_onboarding_help(d: ActionInput) -> NextAction | None:
    if "trial_ending" not in d.codes or "high_engagement" in d.codes:
        return None
    ends = _trial_end(d.subscription.days_to_trial_end)
    return NextAction(
        "offer_onboarding_help",
        "normal",
        f"{ends[0].upper()}{ends[1:]} and usage is light: offer onboarding help or a short demo.",
        ("trial_ending",),
    )


@action_rule("recover_satisfaction")
def recover_satisfaction(d: ActionInput) -> NextAction | None:
    if "low_csat" not in d.codes:
        return None
    return NextAction(
        "recover_satisfaction",
        "normal",
        "Recent satisfaction is low: acknowledge past friction and offer a follow-up from a senior agent.",
        ("low_csat",),
    )


@action_rule("reengage_users")
def reengage_users(d: ActionInput) -> NextAction | None:
    because = tuple(code for code in ("login_drop", "inactive") if code in d.codes)
    if not because or "canceled" in d.codes:
        return None
    return NextAction(
        "reengage_users",
        "normal",
        "Usage has dropped: ask what changed for them and offer a short training session.",
        because,
    )


@action_rule("propose_seat_expansion")
def propose_seat_expansion(d: ActionInput) -> NextAction | None:
    if not {"seats_nearly_full", "high_engagement"} <= d.codes:
        return None
    return NextAction(
        "propose_seat_expansion",
        "normal",
        "Seats are nearly full and usage is high: mention that more seats are available, without pushing pricing.",
        ("seats_nearly_full", "high_engagement"),
    )


_PRIORITY = {"high": 0, "normal": 1}


def suggest_actions(sections: Mapping[str, Any]) -> tuple[NextAction, ...]:
    """The actions for a context's sections (no queries)."""
    health: AccountHealth | None = sections.get("account_health")
    if health is None:
        return ()
    data = ActionInput(
        codes=frozenset(flag.code for flag in health.flags),
        health=health,
        intel=sections.get("customer_intelligence") or CustomerIntelligence(),
        subscription=sections.get("subscription_details") or SubscriptionDetails(),
        product_status=sections.get("product_status") or ProductStatus(),
    )
    actions = [action for rule in ACTION_RULES.values() if (action := rule(data)) is not None]
    return tuple(sorted(actions, key=lambda a: _PRIORITY.get(a.priority, 9)))
