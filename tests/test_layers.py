"""The shape of the package: pure stages import no I/O framework, no import runs back up, modules stay small.

Data flows one way (image → faces → audience → candidates → decision → events), so the
packages and top-level modules of ``adlens`` import each other without a cycle, and the
pure stages load without SQLAlchemy, FastAPI or scikit-learn.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PURE_STAGES = ["adlens.faces", "adlens.columns", "adlens.detectors", "adlens.attributes", "adlens.audience",
               "adlens.ads.inventory", "adlens.ads.rules", "adlens.events", "adlens.payload", "adlens.protocols"]
BLOCKED = ("sqlalchemy", "fastapi", "sklearn")

_BLOCKER = """
import importlib.abc, sys
class Blocker(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in {blocked!r}:
            raise ImportError(f"{{name}} is blocked: a pure stage must not need it")
sys.meta_path.insert(0, Blocker())
import {module}
"""


@pytest.mark.parametrize("module", PURE_STAGES)
def test_pure_stages_import_without_sqlalchemy_fastapi_or_sklearn(module: str) -> None:
    code = _BLOCKER.format(blocked=BLOCKED, module=module)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={"PYTHONPATH": str(SRC), "PATH": ""})
    assert done.returncode == 0, done.stderr.strip().splitlines()[-1]


def _unit(module: str) -> str:
    """The part of the package ``module`` belongs to: its subpackage or top-level module (``adlens.store``…)."""
    return ".".join(module.split(".")[:2])


def _runtime_imports(tree: ast.Module) -> list[str]:
    """The ``adlens`` modules a file imports when it runs (lazy imports included, ``TYPE_CHECKING`` ones not)."""
    typing_only = {id(node) for block in ast.walk(tree)
                   if isinstance(block, ast.If) and "TYPE_CHECKING" in ast.unparse(block.test)
                   for node in ast.walk(block)}
    found = []
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "adlens":
            found += [node.module] if node.module != "adlens" else [f"adlens.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.split(".")[0] == "adlens"]
    return found


def import_graph() -> dict[str, dict[str, str]]:
    """``{unit: {imported unit: a module that imports it}}`` over the source tree."""
    graph: dict[str, dict[str, str]] = defaultdict(dict)
    for path in (SRC / "adlens").rglob("*.py"):
        module = ".".join(path.relative_to(SRC).with_suffix("").parts).removesuffix(".__init__")
        for target in _runtime_imports(ast.parse(path.read_text(encoding="utf-8"))):
            if _unit(target) != _unit(module) and _unit(module) != "adlens":
                graph[_unit(module)].setdefault(_unit(target), module)
    return graph


def test_no_import_runs_back_up() -> None:
    graph = import_graph()
    state: dict[str, str] = {}

    def visit(unit: str, path: list[str]) -> None:
        state[unit] = "open"
        for target in graph.get(unit, {}):
            if state.get(target) == "open":
                cycle = path[path.index(target):] + [target]
                pytest.fail("import cycle: " + " → ".join(f"{a} ({graph[a][b]})" for a, b in zip(cycle, cycle[1:])))
            if target not in state:
                visit(target, [*path, target])
        state[unit] = "done"

    for unit in sorted(graph):
        if unit not in state:
            visit(unit, [unit])


@pytest.mark.parametrize(("lower", "higher"), [
    ("adlens.store", "adlens.decision"), ("adlens.store", "adlens.api"), ("adlens.ads", "adlens.store"),
    ("adlens.ads", "adlens.decision"), ("adlens.events", "adlens.store"), ("adlens.audience", "adlens.ads"),
    ("adlens.faces", "adlens.audience"),
])
def test_a_stage_never_imports_a_later_one(lower: str, higher: str) -> None:
    assert higher not in import_graph().get(lower, {})


#: The most lines a module may have (a median near 100–200 is healthy); the Keras converter is exempt.
MAX_LINES = 320


def test_modules_stay_small() -> None:
    sizes = {str(path.relative_to(SRC)): len(path.read_text(encoding="utf-8").splitlines())
             for path in (SRC / "adlens").rglob("*.py") if "convert" not in path.parts}
    assert {path: n for path, n in sizes.items() if n > MAX_LINES} == {}


def test_the_graph_sees_lazy_imports_but_not_typing_only_ones() -> None:
    tree = ast.parse("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from adlens.store import Store\n"
                     "def f():\n    from adlens.pipeline import analyzer_for\n")
    assert _runtime_imports(tree) == ["adlens.pipeline"]
