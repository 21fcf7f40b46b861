"""Every Python example of the documentation site's own pages runs, and prints what it shows.

A ```python block runs in a fresh namespace; when a ```text block follows it directly, that is
what the example prints, and it must print exactly that. A block that imports torch, jax or cupy
is marked for that backend, so that the session which installs it runs it and the others
deselect it; the other blocks run in the NumPy session. The adapters' pages are run by their
own tests.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from markdown_blocks import ROOT, python_blocks, run_block

import wedgecore as wc

PAGES = (
    "docs/index.md",
    "docs/core.md",
    "docs/algorithms.md",
    "docs/guides/choosing.md",
    "docs/guides/monitoring.md",
)

BACKEND_OF = {"torch": "torch", "jax": "jax", "flax": "jax", "cupy": "cupy"}
"""The backend whose test session installs a module, by any part of the module's dotted name."""


def _backend(block: str) -> str:
    """The one backend a block needs: that of the frameworks it imports, else numpy."""
    modules = re.findall(r"^(?:import|from) ([\w.]+)", block, flags=re.MULTILINE)
    needed = {
        BACKEND_OF[part] for module in modules for part in module.split(".") if part in BACKEND_OF
    }
    if len(needed) > 1:
        raise ValueError(f"an example imports {sorted(needed)}; no test session has them all")
    return needed.pop() if needed else "numpy"


def _printed(page_text: str, block: str) -> str | None:
    """The ```text block right after ``block`` on its page: what the example prints."""
    found = re.search(
        "```python\n" + re.escape(block) + "```\n\n```text\n(.*?)```", page_text, flags=re.DOTALL
    )
    return None if found is None else found.group(1)


def _examples() -> list[object]:
    examples = []
    for page in PAGES:
        text = (ROOT / page).read_text()
        for index, block in enumerate(python_blocks(page), start=1):
            examples.append(
                pytest.param(
                    page,
                    block,
                    _printed(text, block),
                    id=f"{page.removeprefix('docs/')}-{index}",
                    marks=pytest.mark.backend(_backend(block)),
                )
            )
    return examples


@pytest.mark.parametrize(("page", "block", "printed"), _examples())
def test_example_runs_and_prints_what_the_page_shows(page, block, printed, capsys):
    run_block(block, page)
    if printed is not None:
        assert capsys.readouterr().out == printed


@pytest.mark.backend("numpy")
@pytest.mark.parametrize("page", PAGES)
def test_every_page_has_examples_and_every_output_is_checked(page):
    text = (ROOT / page).read_text()
    blocks = python_blocks(page)
    assert blocks, f"{page} has no ```python block: is the fence written right?"
    checked = sum(_printed(text, block) is not None for block in blocks)
    assert checked == text.count("```text\n"), f"{page} has a ```text block after no example"


@pytest.mark.backend("numpy")
def test_methods_table_holds_the_library_values():
    """Algorithms' table: the methods, their default thresholds and the seed example's scores."""
    text = (ROOT / "docs/algorithms.md").read_text()
    rows = re.findall(r"^\| `(\w+)` \|.*\| (\S+) \| (\S+) \|$", text, flags=re.MULTILINE)
    assert tuple(method for method, _, _ in rows) == wc.METHODS
    a = np.array([[1.0, 2.0], [3.0, 4.0]])
    b = np.array([[3.0, 1.0], [4.0, 9.0]])
    for method, threshold, seed_score in rows:
        assert threshold == str(wc.DEFAULT_THRESHOLDS.get(method, "none")), method
        assert float(seed_score) == pytest.approx(float(wc.similarity(a, b, method)), rel=1e-15)
