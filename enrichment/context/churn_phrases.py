"""How the source of the churn risk reads in the prompt and the admin panel.

``Churn Model: v3 (learned from this account base; top factors: ...)`` when a
learned model serves the churn risk (``account_health.churn_model.source`` is
"model"). When the rules serve, the prompt keeps the seed's layout (no line)
and the JSON says ``{"source": "rules"}``.
"""

from __future__ import annotations

from enrichment.context.sections import ChurnModelInfo

MAX_FACTORS = 3


def churn_model_phrase(info: ChurnModelInfo) -> str | None:
    """The prompt's "Churn Model:" value, or ``None`` when the rules serve."""
    if info.source != "model":
        return None
    factors = "; ".join(f.description for f in info.factors[:MAX_FACTORS])
    top = f"; top factors: {factors}" if factors else ""
    return f"v{info.version} (learned from this account base{top})"
