"""Settings read the environment in one place and refuse unsafe production."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured

from config.env import database_from_url, env_bool, env_int

ROOT = Path(__file__).resolve().parents[2]
GOOD_KEY = "k" * 50


def run_check(settings_module: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DEBUG", "DJANGO_SETTINGS_MODULE")}
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": settings_module, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_refuses_to_start_without_a_real_secret_key():
    result = run_check("config.settings.production")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_refuses_debug():
    result = run_check("config.settings.production", SECRET_KEY=GOOD_KEY, DEBUG="true")
    assert result.returncode != 0
    assert "DEBUG must be off" in result.stderr


def test_production_starts_with_a_real_secret_key():
    result = run_check("config.settings.production", SECRET_KEY=GOOD_KEY)
    assert result.returncode == 0, result.stderr


def test_database_urls():
    assert database_from_url(None)["ENGINE"] == "django.db.backends.sqlite3"
    assert database_from_url("sqlite:////tmp/x.sqlite3")["NAME"] == "/tmp/x.sqlite3"
    pg = database_from_url("postgres://u:p%40ss@db.example:6543/name?statement_timeout=500")
    assert (pg["ENGINE"], pg["USER"], pg["PASSWORD"], pg["HOST"], pg["PORT"], pg["NAME"]) == (
        "django.db.backends.postgresql",
        "u",
        "p@ss",
        "db.example",
        "6543",
        "name",
    )
    assert pg["OPTIONS"]["options"] == "-c statement_timeout=500"
    assert "pool" in pg["OPTIONS"]
    with pytest.raises(ImproperlyConfigured, match="DATABASE_URL"):
        database_from_url("mysql://x/y")


def test_typed_readers_name_the_variable(monkeypatch):
    monkeypatch.setenv("SOME_FLAG", "perhaps")
    with pytest.raises(ImproperlyConfigured, match="SOME_FLAG"):
        env_bool("SOME_FLAG", False)
    monkeypatch.setenv("SOME_NUMBER", "ten")
    with pytest.raises(ImproperlyConfigured, match="SOME_NUMBER"):
        env_int("SOME_NUMBER", 1)


def test_the_rollup_verify_settings_are_read_from_the_environment():
    assert (django_settings.ROLLUP_VERIFY_FIX, django_settings.ROLLUP_VERIFY_DAYS) == (False, 60)
    clean = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    code = "import django; django.setup(); from django.conf import settings as s; print(s.ROLLUP_VERIFY_FIX, s.ROLLUP_VERIFY_DAYS)"
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "config.settings.test", "ROLLUP_VERIFY_FIX": "true", "ROLLUP_VERIFY_DAYS": "0"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.stdout.split() == ["True", "0"], result.stderr
