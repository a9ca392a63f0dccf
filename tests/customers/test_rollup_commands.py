"""manage.py rollup_verify and rollup_rebuild: thin commands over customers.rollup."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from customers.models import EngagementDaily
from tests.customers.rollup_data import rollup_table, seed_drift, seed_rollup

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def run(name: str, *args: str, stdout: io.StringIO | None = None) -> tuple[str, int]:
    """(stdout, exit status) of a command."""
    out = stdout or io.StringIO()
    try:
        call_command(name, *args, stdout=out, stderr=io.StringIO())
    except CommandError as exc:
        return out.getvalue(), exc.returncode
    return out.getvalue(), 0


def test_verify_reports_seeded_drift_and_exits_nonzero():
    s = seed_rollup()
    seed_drift(s)
    out, status = run("rollup_verify")
    assert status == 1
    lines = out.splitlines()
    assert lines[0].startswith(
        f"rollup_verify: 3 customers, the last 60 days (since {s.ago(59)}): drift in 3 keys (missing 1, extra 1, wrong 1) of 3 customers ["
    )
    assert lines[1:] == [
        f"  alpha {s.ago(1)} login:- events=3 rollup=99 (wrong)",
        f"  beta {s.ago(3)} api_call:- events=1 rollup=- (missing)",
        f"  gamma {s.ago(7)} error:- events=0 rollup=4 (extra)",
    ]
    out, status = run("rollup_verify", "--days", "0")
    assert status == 1 and "all history: drift in 4 keys (missing 1, extra 1, wrong 2) of 3 customers" in out
    out, status = run("rollup_verify", "--days", "2")
    assert status == 1 and "drift in 1 keys (missing 0, extra 0, wrong 1) of 1 customers" in out


def test_fix_repairs_the_drift_and_verify_then_finds_none():
    s = seed_rollup()
    seed_drift(s)
    out, status = run("rollup_verify", "--fix", "--days", "0")
    assert status == 0
    assert "rollup_verify --fix: rebuilt 4 customer-days of 3 customers, 5 rows written; verified again: 0 keys drift" in out
    out, status = run("rollup_verify", "--days", "0")
    assert status == 0 and "all history: no drift" in out
    assert not EngagementDaily.objects.filter(customer=s.gamma, kind="error").exists()


def test_dry_run_changes_nothing():
    s = seed_rollup()
    seed_drift(s)
    before = rollup_table()
    out, status = run("rollup_verify", "--fix", "--dry-run")
    assert status == 1
    assert out.splitlines()[-1] == "dry run: would rebuild 3 customer-days of 3 customers"
    out, status = run("rollup_rebuild", "--dry-run")
    assert status == 0 and "rollup_rebuild --dry-run: 3 customers, all history: would replace 7 rollup rows with 7; nothing written" in out
    out, status = run("rollup_rebuild", "--dry-run", "--since", str(s.ago(3)), "--customer", "beta")
    assert "1 customers, since" in out and "would replace 1 rollup rows with 2" in out
    assert rollup_table() == before


def test_output_off_a_terminal_is_a_plain_summary():
    seed_rollup()
    out, status = run("rollup_verify", "--chunk-size", "1")
    assert status == 0 and "\r" not in out
    (line,) = out.splitlines()
    assert line.startswith("rollup_verify: 3 customers, the last 60 days") and line.endswith(" s]") and "no drift" in line
    out, _ = run("rollup_rebuild", "--chunk-size", "1")
    (line,) = out.splitlines()
    assert line.startswith("rollup_rebuild: 3 customers, all history: 7 rows written [") and "\r" not in out


def test_a_terminal_gets_a_progress_bar():
    seed_rollup()
    out, status = run("rollup_verify", "--chunk-size", "1", stdout=Terminal())
    assert status == 0 and "\r" in out and "verify: 100%" in out and "3/3" in out
    assert out.splitlines()[-1].startswith("rollup_verify: 3 customers")
    out, _ = run("rollup_rebuild", "--chunk-size", "2", stdout=Terminal())
    assert "rebuild: 100%" in out and out.splitlines()[-1].startswith("rollup_rebuild: 3 customers")


def test_rebuild_restores_the_rollup_from_the_events():
    s = seed_rollup()
    exact = [row[1:] for row in rollup_table()]
    seed_drift(s)
    out, status = run("rollup_rebuild", "--customer", "alpha", "beta")
    assert status == 0 and "rollup_rebuild: 2 customers, all history: 6 rows written" in out
    assert "drift in 1 keys (missing 0, extra 1, wrong 0) of 1 customers" in run("rollup_verify", "--days", "0")[0]  # gamma's bogus row
    run("rollup_rebuild", "--since", str(s.ago(10)))
    assert run("rollup_verify", "--days", "0")[1] == 0
    assert [row[1:] for row in rollup_table()] == exact
    with pytest.raises(CommandError, match="unknown customers: nobody"):
        call_command("rollup_rebuild", "--customer", "alpha", "nobody", stdout=io.StringIO())


def test_rebuild_since_leaves_older_days_alone():
    s = seed_rollup()
    seed_drift(s)
    run("rollup_rebuild", "--since", str(s.ago(59)))
    out, status = run("rollup_verify", "--days", "0")
    assert status == 1 and "drift in 1 keys (missing 0, extra 0, wrong 1)" in out and f"alpha {s.ago(100)}" in out


def test_a_sample_checks_k_customers():
    s = seed_rollup()
    seed_drift(s)
    out, _ = run("rollup_verify", "--sample", "2")
    assert out.startswith("rollup_verify: 2 customers, the last 60 days")
    with pytest.raises(CommandError, match="--sample"):
        call_command("rollup_verify", "--sample", "0", stdout=io.StringIO())


_SQLITE_SCRIPT = textwrap.dedent(
    """
    import datetime as dt, io, sys
    import django
    django.setup()
    from django.core.management import CommandError, call_command
    from customers.models import Customer, EngagementDaily, EngagementEvent

    call_command("migrate", verbosity=0)
    now = dt.datetime.now(dt.UTC)
    customers = [Customer.objects.create(external_id=f"c{n}", company_name=f"C{n}", customer_since=dt.date(2024, 1, 1)) for n in range(3)]
    EngagementEvent.objects.bulk_create(
        EngagementEvent(customer=c, kind="login", occurred_at=now - dt.timedelta(days=d, hours=1)) for c in customers for d in range(5)
    )

    def run(*args):
        out = io.StringIO()
        try:
            call_command(*args, stdout=out)
        except CommandError as exc:
            return out.getvalue(), exc.returncode
        return out.getvalue(), 0

    print(run("rollup_rebuild")[0], end="")
    print(run("rollup_verify")[0], end="")
    EngagementDaily.objects.filter(customer=customers[0]).update(count=9)
    EngagementDaily.objects.filter(customer=customers[1]).first().delete()
    EngagementDaily.objects.create(customer=customers[2], day=dt.date(2020, 1, 1), kind="error", count=1)
    out, status = run("rollup_verify", "--days", "0")
    print(out, end="")
    print("status", status)
    print(run("rollup_verify", "--days", "0", "--fix")[0], end="")
    print(run("rollup_verify", "--days", "0")[0], end="")
    """
)


@pytest.mark.slow
def test_the_commands_run_on_sqlite(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "DJANGO_SETTINGS_MODULE", "CELERY_TASK_ALWAYS_EAGER"}}
    env.update(DATABASE_URL=f"sqlite:///{tmp_path}/rollup.sqlite3", DJANGO_SETTINGS_MODULE="config.settings.local", PYTHONPATH=str(ROOT))
    result = subprocess.run([sys.executable, "-c", _SQLITE_SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    lines = [line for line in result.stdout.splitlines() if line.startswith(("rollup_", "status", "  c"))]
    assert lines[0].startswith("rollup_rebuild: 3 customers, all history: 15 rows written")
    assert "no drift" in lines[1]
    assert "all history: drift in 7 keys (missing 1, extra 1, wrong 5) of 3 customers" in lines[2]
    assert "  c2 2020-01-01 error:- events=0 rollup=1 (extra)" in lines
    assert "status 1" in lines
    assert any("rebuilt 7 customer-days of 3 customers" in line and "verified again: 0 keys drift" in line for line in lines)
    assert "all history: no drift" in lines[-1]
