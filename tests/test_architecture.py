"""The house's rules, read from the code's own imports (``ast``): stages meet only in records.

* no stage (intake, translate, review, publish) imports another stage;
* core imports no stage, and nothing but core;
* only the Airflow side (``foreigndesk/airflow_side/``) and the DAG files import Airflow.

Imports inside functions count as much as those at the top: a lazy import is still a door.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from conftest import REPO

PACKAGE = REPO / "plugins" / "foreigndesk"
STAGES = ("intake", "translate", "review", "publish")


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _imports(path: Path) -> set[str]:
    """Every module name a file imports (``from x import y`` also counts ``x.y``, which may be a module)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _place(path: Path) -> str:
    """The folder of the package a file lives in ("core", "review", ...), or "top" for cli/status/launcher."""
    parts = path.relative_to(PACKAGE).parts
    return parts[0] if len(parts) > 1 else "top"


def _stage_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "foreigndesk" and parts[1] in STAGES else None


def test_the_package_has_the_four_stages_a_core_and_an_airflow_side():
    folders = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert {"core", "airflow_side", *STAGES} <= folders


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_stage_imports_another_stage(path):
    place = _place(path)
    if place not in STAGES:
        return
    others = sorted({m for m in _imports(path) if _stage_of(m) not in (None, place)})
    assert not others, f"{path.relative_to(REPO)} ({place}) imports another stage: {others}; read its records via core"


@pytest.mark.parametrize("path", sorted((PACKAGE / "core").rglob("*.py")), ids=lambda p: p.name)
def test_core_stands_on_nothing_but_itself(path):
    outside = sorted(m for m in _imports(path)
                     if m.startswith("foreigndesk.") and not m.startswith("foreigndesk.core"))
    assert not outside, f"{path.relative_to(REPO)} imports {outside}: core must not depend on a stage"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_only_the_airflow_side_imports_airflow(path):
    if _place(path) == "airflow_side":
        return
    airflow = sorted(m for m in _imports(path) if m == "airflow" or m.startswith("airflow."))
    assert not airflow, f"{path.relative_to(REPO)} imports {airflow}; only foreigndesk/airflow_side/ may"


def test_the_rules_would_catch_a_stage_import(tmp_path):
    """The checks read real import statements: a file that breaks a rule is seen breaking it."""
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from foreigndesk.translate.memory import remember_decision\n    import airflow.sdk\n")
    assert {_stage_of(m) for m in _imports(bad)} >= {"translate"}
    assert "airflow.sdk" in _imports(bad)
