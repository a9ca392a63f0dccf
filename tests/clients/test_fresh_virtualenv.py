"""The README's example and examples/quickstart.py run as written from a fresh
virtualenv outside the project: ``python -m venv``, ``pip install
clients/python`` (with no package index reachable, CLIENT_VENV_OFFLINE=1 or a
failed install, the package and httpx's modules are linked into the venv
instead), then the code in a subprocess whose working directory is
outside the repository and whose path has no Django and no project module,
against a live server (real PostgreSQL) with a real token."""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
import sysconfig
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from enrichment.api.tokens import api_token_create
from enrichment.context.scopes import TokenScope

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "clients" / "python"
# What httpx needs at run time, taken from this interpreter when PyPI cannot be reached.
HTTPX_MODULES = ("httpx", "httpcore", "h11", "anyio", "idna", "certifi", "sniffio", "typing_extensions")


def readme_example() -> str:
    text = (PACKAGE / "README.md").read_text()
    quickstart = text.split("## Quickstart", 1)[1]
    return re.search(r"```python\n(.*?)```", quickstart, re.DOTALL).group(1)


def _offline_dependencies(venv_python: Path, tmp_path: Path) -> None:
    """The package and httpx with its dependencies only, linked from here: no pip involved."""
    deps = tmp_path / "deps"
    deps.mkdir()
    (deps / "customer_context").symlink_to(PACKAGE / "customer_context")
    site = Path(sysconfig.get_paths()["purelib"])
    for name in HTTPX_MODULES:
        for candidate in (site / name, site / f"{name}.py"):
            if candidate.exists():
                (deps / candidate.name).symlink_to(candidate)
    venv_site = subprocess.check_output([venv_python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], text=True)
    Path(venv_site.strip(), "deps.pth").write_text(f"{deps}\n")


@pytest.fixture(scope="module")
def fresh_venv(tmp_path_factory) -> Path:
    tmp_path = tmp_path_factory.mktemp("fresh-venv")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", venv], check=True, timeout=120)
    python = venv / "bin" / "python"
    pip = [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    installed = False
    if not os.environ.get("CLIENT_VENV_OFFLINE"):
        with contextlib.suppress(subprocess.TimeoutExpired):
            installed = subprocess.run([*pip, PACKAGE], capture_output=True, timeout=240, check=False).returncode == 0
    if not installed:  # no package index (nor setuptools' build backend): the package's and httpx's modules, linked
        _offline_dependencies(python, tmp_path)
    return python


@pytest.fixture
def server_and_token(transactional_db, live_server) -> tuple[str, str]:
    call_command("seed_demo", customers=2, stdout=StringIO())
    return live_server.url, api_token_create(name="outside-agent", scope=TokenScope.FULL)[1]


def _run(python: Path, args: list[str], url: str, token: str, cwd: Path) -> str:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(cwd),
        "CUSTOMER_CONTEXT_URL": url,
        "CUSTOMER_CONTEXT_TOKEN": token,
    }
    result = subprocess.run([python, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_the_fresh_venv_has_no_django_and_no_project(fresh_venv, tmp_path):
    probe = "import importlib.util as u; print([m for m in ('django', 'enrichment', 'customers', 'rest_framework') if u.find_spec(m)])"
    env = {"PATH": os.environ["PATH"]}
    result = subprocess.run([fresh_venv, "-c", probe], cwd=tmp_path, env=env, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
    assert str(ROOT) not in subprocess.check_output([fresh_venv, "-c", "import sys; print(sys.path)"], cwd=tmp_path, text=True)


def test_readme_example_runs_as_written(fresh_venv, server_and_token, tmp_path):
    url, token = server_and_token
    script = tmp_path / "readme_example.py"
    script.write_text(readme_example())
    out = _run(fresh_venv, [str(script)], url, token, tmp_path)
    assert out.startswith("Acme Corp ")
    assert "You are a helpful support agent.\n\n<customer_context>\n" in out and "Company: Acme Corp" in out
    assert out.rstrip().endswith("404 customer_not_found")


def test_quickstart_example_runs(fresh_venv, server_and_token, tmp_path):
    url, token = server_and_token
    out = _run(fresh_venv, [str(PACKAGE / "examples" / "quickstart.py"), "customer_123"], url, token, tmp_path)
    assert "customer_123: Acme Corp" in out and "<customer_context>" in out
    assert "unknown customer: 404 customer_not_found" in out and "jane@acme.com writes for customer_123" in out
