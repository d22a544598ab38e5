"""The import contracts (.importlinter) hold, and catch the imports they forbid.

scripts/test runs `lint-imports` on the real tree before pytest; here each contract is shown
to fail on a small tree that breaks it (the real tree must never break one to prove it).
"""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / ".importlinter"
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
LAYERS = "app layers: (sso) > (mfa) > tenants > accounts > audit | mail > core"
CLEAN_TREE = {
    "apps/core/clock.py": "",
    "apps/accounts/models.py": "from apps.core import clock\n",
    "apps/tenants/models.py": "from apps.accounts import models\n",
    "apps/audit/services.py": "from apps.core import clock\n",
    "apps/mail/services.py": "from apps.core import clock\n",
    "config/urls.py": "from apps.tenants import models\n",
    "devprocs/procs.py": "",
    "bench/harness.py": "import devprocs.procs\n",
    "tests/conftest.py": "import devprocs.procs\nfrom apps.tenants import models\n",
}

# The new apps as they may come: sso uses mfa and tenants, mfa uses accounts.
THIRD_RELEASE = {
    "apps/mfa/factors.py": "from apps.accounts import models\nfrom apps.audit import services\n",
    "apps/sso/flow.py": "from apps.mfa import factors\nfrom apps.tenants import models\n",
}


def lint(tmp_path: Path, tree: dict[str, str]) -> subprocess.CompletedProcess:
    for name, text in tree.items():
        path = tmp_path / name
        for parent in reversed([p for p in path.relative_to(tmp_path).parents if p != Path(".")]):
            (tmp_path / parent).mkdir(exist_ok=True)
            (tmp_path / parent / "__init__.py").touch()
        path.write_text(text)
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(CONFIG), "--no-cache"], cwd=tmp_path,
        env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"}, capture_output=True, text=True, timeout=60,
    )


def broken_contracts(stdout: str) -> list[str]:
    """The names of the contracts lint-imports reported BROKEN (its summary: one line each)."""
    summary = stdout.partition("Contracts:")[0]
    return [name for name, verdict in re.findall(r"^(.+) (KEPT|BROKEN)$", summary, re.MULTILINE) if verdict == "BROKEN"]


def test_the_real_tree_keeps_every_import_contract():
    result = subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize("with_third_release", [False, True])
def test_a_tree_that_follows_the_arrows_keeps_every_contract(tmp_path, with_third_release):
    result = lint(tmp_path, {**CLEAN_TREE, **(THIRD_RELEASE if with_third_release else {})})
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(("module", "text", "contract"), [
    ("apps/accounts/signup.py", "from apps.tenants import models\n", "accounts never imports tenants"),
    ("apps/accounts/signup.py", "import config.urls\n", "accounts never imports tenants"),  # indirect
    ("apps/core/metrics.py", "from apps.mail import services\n", "core imports no other app"),
    ("apps/core/metrics.py", "from apps.mfa import factors\n", "core imports no other app"),  # a future app
    ("apps/mail/services.py", "from apps.accounts import models\n", LAYERS),
    ("apps/mail/services.py", "from apps.audit import services\n", LAYERS),  # siblings
    ("apps/audit/services.py", "from apps.tenants import models\n", LAYERS),
    ("apps/accounts/login.py", "from apps.mfa import factors\n", LAYERS),  # a future app
    ("apps/mfa/factors.py", "from apps.sso import flow\n", LAYERS),
    ("apps/accounts/fixtures.py", "import tests.conftest\n", "apps and config never import tests, devprocs or bench"),
    ("config/settings.py", "import devprocs.procs\n", "apps and config never import tests, devprocs or bench"),
    ("bench/harness.py", "from tests import conftest\n", "bench and devprocs never import tests"),
])
def test_an_import_against_the_arrows_breaks_its_contract(tmp_path, module, text, contract):
    tree = {**CLEAN_TREE, **THIRD_RELEASE, module: text}
    result = lint(tmp_path, tree)
    assert result.returncode == 1, result.stdout + result.stderr
    assert contract in broken_contracts(result.stdout), result.stdout
