"""Markdown tables for the benchmark pages."""

from __future__ import annotations

from collections.abc import Sequence


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A Markdown table of ``rows`` (cells formatted by the caller) under ``headers``."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines.extend("| " + " | ".join(str(cell) for cell in row) + " |" for row in rows)
    return "\n".join(lines)


def ratio_with_spread(ratio: float, spread: tuple[float, float], digits: int = 2) -> str:
    """``ratio (low-high)``: a median ratio and the IQR of the per-round ratios."""
    low, high = spread
    return f"{ratio:.{digits}f} ({low:.{digits}f}-{high:.{digits}f})"
