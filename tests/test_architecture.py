"""core must never import Qt: checked by import-linter's contract and by importing every core module."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

CORE = Path(__file__).resolve().parents[1] / "mnist_desk" / "core"
QT_ROOTS = {"PySide6", "PyQt5", "PyQt6", "PySide2", "pyqtgraph", "shiboken6", "qtpy"}


def test_no_core_module_names_qt_in_an_import():
    offenders = []
    for path in CORE.rglob("*.py"):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
                if node.level and node.module and node.module.startswith("ui"):
                    offenders.append(f"{path.name}: relative import of ui")
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] in QT_ROOTS or n.startswith("mnist_desk.ui")]
    assert offenders == []


def test_importing_all_of_core_loads_no_qt():
    modules = sorted(p.stem for p in CORE.glob("*.py") if p.stem != "__init__")
    code = (
        "import sys\n"
        + "".join(f"import mnist_desk.core.{m}\n" for m in modules)
        + "bad = [m for m in sys.modules if m.split('.')[0] in {'PySide6','PyQt5','PyQt6','pyqtgraph','shiboken6'}]\n"
        + "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_import_linter_contract():
    """The pyproject's import-linter contracts: core may not import PySide6/pyqtgraph/mnist_desk.ui, and the
    layers cli > ui > core (the ui once imported the cli, which imports the ui: a cycle)."""
    root = Path(__file__).resolve().parents[1]
    exe = Path(sys.executable).parent / "lint-imports"
    cmd = [str(exe)] if exe.exists() else [shutil.which("lint-imports") or "lint-imports"]
    r = subprocess.run(cmd + ["--config", str(root / "pyproject.toml")], cwd=root, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "2 kept, 0 broken" in r.stdout
