"""The house keeps its shape: the layer contracts hold, no module imports itself in a loop, and
nothing happens at import time that belongs to a command."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).parents[2]
PACKAGES = ("workbench", "features", "models")


def test_the_layer_contracts_hold() -> None:
    done = subprocess.run([str(Path(sys.executable).parent / "lint-imports")], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Contracts: 2 kept, 0 broken." in done.stdout


def test_no_module_takes_part_in_an_import_cycle() -> None:
    graph = grimp.build_graph(*PACKAGES, exclude_type_checking_imports=True)
    cycles = []
    for importer in sorted(graph.modules):
        for imported in graph.find_modules_directly_imported_by(importer):
            if imported.split(".")[0] not in PACKAGES or imported == importer:
                continue
            back = graph.find_shortest_chain(importer=imported, imported=importer)
            if back and not _package_and_child(importer, imported):
                cycles.append(" -> ".join([importer, *back]))
    assert cycles == []


def _package_and_child(a: str, b: str) -> bool:
    """A package's __init__ handing on its own submodules' names is not a loop between concepts."""
    return a.startswith(b + ".") or b.startswith(a + ".")


def test_no_module_chooses_a_plotting_backend_or_reads_settings_at_import() -> None:
    offenders = []
    for path in sorted((ROOT / "workbench").rglob("*.py")) + sorted((ROOT / "models").rglob("*.py")):
        tree = ast.parse(path.read_text())
        for node in tree.body:  # statements that run at import, not definitions
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                continue
            source = ast.unparse(node)
            if "matplotlib.use(" in source or "os.environ[" in source or "load_dotenv(" in source:
                offenders.append(f"{path.relative_to(ROOT)}: {source[:80]}")
    assert offenders == []
