"""Python code blocks of the project's Markdown files, so that tests can run every example."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).parent.parent


def python_blocks(relative_path: str, section: str | None = None) -> list[str]:
    """The ```python blocks of a Markdown file, or of its ``## section`` only."""
    text = (ROOT / relative_path).read_text()
    if section is not None:
        parts = re.split(r"^## ", text, flags=re.MULTILINE)
        matching = [part for part in parts if part.startswith(section + "\n")]
        if len(matching) != 1:
            raise LookupError(f"{relative_path} has no single section '## {section}'")
        text = matching[0]
    return re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)


def run_block(block: str, name: str) -> dict[str, object]:
    """Execute one example in a fresh namespace and return that namespace."""
    namespace: dict[str, object] = {}
    exec(compile(block, name, "exec"), namespace)
    return namespace
