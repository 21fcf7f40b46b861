"""Every Python block of README.md runs as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).parent.parent / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)


def _needs(block: str) -> list[pytest.MarkDecorator]:
    return [pytest.mark.backend(name) for name in ("torch", "jax") if f"import {name}" in block]


@pytest.mark.parametrize("block", [pytest.param(block, marks=_needs(block)) for block in BLOCKS])
def test_readme_block_runs(block):
    exec(compile(block, str(README), "exec"), {})


def test_readme_has_examples():
    assert len(BLOCKS) >= 2
