"""factory-boy and Faker are test dependencies: no runtime module may import them.

Every module of the runtime packages (migrations and tests aside) is imported in
a fresh interpreter with Django set up, which then reports whether ``factory``
or ``faker`` ended up in ``sys.modules``. A fresh interpreter, because this one
has imported the test factories already.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNTIME_PACKAGES = ("config", "customers", "billing", "support", "enrichment")
TEST_ONLY = ("factory", "faker")

_IMPORT_ALL = """
import importlib, json, sys

import django

django.setup()
for name in json.loads(sys.argv[1]):
    importlib.import_module(name)
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in json.loads(sys.argv[2]))))
"""


def _runtime_modules() -> list[str]:
    modules = []
    for package in RUNTIME_PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if "migrations" in parts or "tests" in parts or parts[-1].startswith(("test_", "conftest")):
                continue
            modules.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return modules


def test_runtime_modules_are_found():
    modules = _runtime_modules()
    assert {"config.settings.base", "customers.models", "enrichment.demo.seed", "enrichment.management.commands.seed_demo"} <= set(modules)
    assert not [m for m in modules if ".migrations" in m]


def test_no_runtime_module_imports_factory_boy_or_faker():
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "PYTHONPATH": str(ROOT),
        # config.settings.production refuses to load without these.
        "SECRET_KEY": secrets.token_urlsafe(48),
        "DEBUG": "false",
    }
    result = subprocess.run(
        [sys.executable, "-c", _IMPORT_ALL, json.dumps(_runtime_modules()), json.dumps(TEST_ONLY)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []
