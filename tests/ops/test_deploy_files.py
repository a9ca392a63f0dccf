"""The Prometheus alert rules and the Grafana dashboard in deploy/ name only
metrics that /metrics exports (and the README's references resolve)."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
import yaml

from enrichment.ops.metrics import record_rollup_drift
from tests.enrichment.realtime.test_metrics import scrape

ROOT = Path(__file__).resolve().parents[2]
PROMQL_WORDS = {
    "sum", "max", "min", "avg", "count", "rate", "irate", "increase", "histogram_quantile", "time", "absent",
    "by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "le", "offset", "bool",
}  # fmt: skip


def metric_names(expr: str) -> set[str]:
    """Identifiers of an expression that are not functions, keywords, label names or strings."""
    expr = re.sub(r'"[^"]*"', '""', expr)  # label values
    expr = re.sub(r"\{[^}]*\}", "", expr)  # label matchers
    expr = re.sub(r"\b(by|without|on|ignoring)\s*\([^)]*\)", "", expr)  # grouping labels
    expr = re.sub(r"\[[^\]]*\]", "", expr)  # ranges
    return {word for word in re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*", expr) if word not in PROMQL_WORDS}


def exported(text: str) -> set[str]:
    names = set()
    for name, kind in re.findall(r"^# TYPE (\S+) (\S+)$", text, re.M):
        names.add(name)
        names |= {
            "counter": {f"{name}_total"},
            "histogram": {f"{name}_bucket", f"{name}_count", f"{name}_sum"},
            "summary": {f"{name}_count", f"{name}_sum"},
        }.get(kind, set())
    return names


@pytest.fixture
def metrics_exported(db, client) -> set[str]:
    record_rollup_drift(keys=0, customers=0, unrepaired=0, checked_at=time.time())  # present once the nightly verify ran
    return exported(scrape(client))


def alert_expressions() -> dict[str, str]:
    rules = yaml.safe_load((ROOT / "deploy/prometheus/alerts.yml").read_text())
    return {rule["alert"]: rule["expr"] for group in rules["groups"] for rule in group["rules"]}


def dashboard_expressions() -> dict[str, str]:
    dashboard = json.loads((ROOT / "deploy/grafana/customer-context.json").read_text())
    return {f"{panel['title']} {target['refId']}": target["expr"] for panel in dashboard["panels"] for target in panel["targets"]}


def test_the_expression_parser():
    assert metric_names('histogram_quantile(0.99, sum by (le) (rate(a_bucket{tier=~"l2|x"}[5m]))) > 0.5') == {"a_bucket"}
    assert metric_names("time() - max(b_seconds) > 120") == {"b_seconds"}


def test_alert_rules_cover_the_issue_and_name_existing_metrics(metrics_exported):
    expressions = alert_expressions()
    assert {"ContextLatencyP99High", "DegradedSections", "VendorCircuitOpen", "CeleryQueueBacklog", "BeatSilent", "RollupDrift"} <= set(
        expressions
    )
    for alert, expr in expressions.items():
        missing = metric_names(expr) - metrics_exported
        assert not missing, f"{alert}: {missing} not exported by /metrics"
        assert metric_names(expr), alert


def test_dashboard_names_existing_metrics(metrics_exported):
    for panel, expr in dashboard_expressions().items():
        missing = metric_names(expr) - metrics_exported
        assert not missing, f"{panel}: {missing} not exported by /metrics"


def test_readme_references_resolve():
    readme = (ROOT / "README.md").read_text()
    for target in re.findall(r"\]\(((?!https?:|#)[^)\s]+)\)", readme):
        assert (ROOT / target.split("#")[0]).exists(), target
    for path in re.findall(r"`((?:[a-z_]+/)+[A-Za-z0-9_.-]+\.(?:py|md|yml|json|sh|txt|html))`", readme):
        assert (ROOT / path).exists() or any(ROOT.glob(f"*/{path}")) or any(ROOT.glob(f"*/*/{path}")), path
    assert "DESIGN.md" not in readme or (ROOT / "DESIGN.md").exists()
