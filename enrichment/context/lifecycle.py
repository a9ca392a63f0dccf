"""How the account's lifecycle reads: the exact phrases the prompt block and
the admin panel share, so both say the same as the JSON.

``customer_intelligence.lifecycle`` is one of
:data:`~enrichment.context.sections.LIFECYCLE_STATES`: ``trialing``,
``active``, ``past_due``, ``canceled``, ``no_subscription`` ("unknown" only
without a subscription section). In the prompt's header (never dropped), an
account that is not simply active has ``Lifecycle: <value>``.

=====================================  ==============================================================
case                                   reads
=====================================  ==============================================================
canceled account                       ``MRR: $0.00 (canceled; last MRR $250.00)``,
                                       ``Churn Risk: n/a (canceled)`` (it has churned: ``churn_risk``
                                       is null, ``churn_risk_level`` "churned"), ``- Renewal: none
                                       (canceled)``, ``- Status: CANCELED``; red flag ``Canceled on
                                       2025-11-04``
trial ending today / later             ``- Trial ends: 2025-11-14 (today)`` / ``(6 days)``
trial ended (still trialing)           ``- Trial ended: 2025-11-12 (2 days ago)``; red flag
                                       ``Trial ended 2 days ago``
renewal today / later                  ``- Renewal: today`` / ``- Renewal: 28 days``; during a trial
                                       only ``- First renewal: 2025-12-20 (36 days)`` when it is
                                       not the trial's end
churn probability                      ``Churn Risk: High (60-80%)``: a band of 20 points, "under
                                       20%" and "over 80%" at the ends (the JSON keeps the figure)
renewal date in the past               ``- Renewal: date passed 3 days ago (2025-11-11)``; yellow flag
                                       ``Renewal date passed 3 days ago (2025-11-11)``
no subscription                        ``Lifecycle: no_subscription``, ``- Status: NO SUBSCRIPTION``,
                                       ``- Renewal: not scheduled``
=====================================  ==============================================================

Dates are ISO 8601 (``YYYY-MM-DD``); day counts are whole days from the
context's date ("1 day", "2 days").
"""

from __future__ import annotations

from decimal import Decimal

from enrichment.context.sections import CHURNED, SubscriptionDetails


def days(n: int) -> str:
    return f"{n} day{'' if n == 1 else 's'}"


def money(value: Decimal) -> str:
    return f"${value:,.2f}"


def mrr_phrase(mrr: Decimal, last_mrr: Decimal | None) -> str:
    """"$250.00", or "$0.00 (canceled; last MRR $250.00)" for a canceled account."""
    if last_mrr is None:
        return money(mrr)
    return f"{money(mrr)} (canceled; last MRR {money(last_mrr)})"


def churn_band(risk: float) -> str:
    """The probability as a band of 20 points, never a false certainty:
    "under 20%", "20-40%", ..., "over 80%"."""
    percent = risk * 100
    if percent < 20:
        return "under 20%"
    if percent >= 80:
        return "over 80%"
    low = int(percent // 20) * 20
    return f"{low}-{low + 20}%"


def churn_phrase(risk: float | None, level: str) -> str:
    """"Low (under 20%)", "High (60-80%)", or "n/a (canceled)" for an account
    that has churned (no probability). The exact figure stays in the JSON."""
    if risk is None:
        return f"n/a ({'canceled' if level == CHURNED else 'unknown'})"
    return f"{level.title()} ({churn_band(risk)})"


def trial_phrase(sub: SubscriptionDetails) -> tuple[str, str] | None:
    """("Trial ends", "2025-11-20 (6 days)" or "... (today)"), or ("Trial ended",
    "2025-11-12 (2 days ago)"); ``None`` when not trialing."""
    if not (sub.is_trial and sub.trial_ends_at):
        return None
    left, ends = sub.days_to_trial_end or 0, sub.trial_ends_at.isoformat()
    if left < 0:
        return "Trial ended", f"{ends} ({days(-left)} ago)"
    return "Trial ends", f"{ends} ({'today' if left == 0 else days(left)})"


def renewal_phrase(sub: SubscriptionDetails) -> str:
    """"28 days", "today", "date passed 3 days ago (2025-11-11)", "not
    scheduled", or "none (canceled)"."""
    left = sub.days_to_renewal
    if sub.status == "canceled":
        return "none (canceled)"
    if left is None:
        return "not scheduled"
    if left < 0:
        when = f" ({sub.renewal_date.isoformat()})" if sub.renewal_date else ""
        return f"date passed {days(-left)} ago{when}"
    return "today" if left == 0 else days(left)


def subscription_dates(sub: SubscriptionDetails) -> list[tuple[str, str]]:
    """The Subscription part's date lines as (label, text). A trial shows its
    end; the renewal after it only when it falls on another date, as "First
    renewal", so the two can never be read as one another."""
    trial = trial_phrase(sub)
    if trial is None:
        return [("Renewal", renewal_phrase(sub))]
    lines = [trial]
    if sub.renewal_date is not None and sub.renewal_date != sub.trial_ends_at and (sub.days_to_renewal or 0) >= 0:
        lines.append(("First renewal", f"{sub.renewal_date.isoformat()} ({renewal_phrase(sub)})"))
    return lines


def status_phrase(status: str) -> str:
    """The subscription status in capitals ("PAST DUE"), "NO SUBSCRIPTION" for none."""
    return "NO SUBSCRIPTION" if status == "none" else status.replace("_", " ").upper()
