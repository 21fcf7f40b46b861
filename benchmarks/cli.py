"""The command line every suite module shares: ``python -m benchmarks.<suite> [--quick]``."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

Rows = list[dict[str, Any]]


def suite_main(
    description: str | None, run: Callable[[bool], Rows], markdown: Callable[[Rows], str]
) -> None:
    """Parse ``--quick``, run the suite and print its Markdown table."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="tiny sizes, few rounds (CI smoke)")
    print(markdown(run(parser.parse_args().quick)))
