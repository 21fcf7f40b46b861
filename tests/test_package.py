"""The core is framework-free: it imports only the standard library and array_api_compat."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import wedgecore as wc

CORE = Path(wc.__file__).parent
FRAMEWORKS = ("numpy", "torch", "jax", "cupy", "tensorflow", "keras", "flax")


def _imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_core_sources_import_only_stdlib_and_array_api_compat():
    sources = sorted(CORE.glob("*.py"))
    assert len(sources) >= 5
    for path in sources:
        foreign = _imported_modules(path) - set(sys.stdlib_module_names) - {"array_api_compat"}
        assert not foreign, f"{path.name} imports {foreign}"


def test_importing_the_installed_core_loads_no_framework(tmp_path):
    code = (
        "import sys, wedgecore, wedgecore.adapters; "
        f"print(sorted(m for m in {FRAMEWORKS!r} if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path
    )
    assert result.stdout.strip() == "[]"


def test_public_api_is_exactly_the_design_one():
    assert sorted(wc.__all__) == sorted(
        [
            "DEFAULT_THRESHOLDS",
            "METHODS",
            "drop_fraction",
            "pair_scores",
            "similarity",
            "similarity_matrix",
            "wedge_dropout",
            "wedge_mask",
        ]
    )
    assert (CORE / "py.typed").exists()
