"""README's core examples run as written (each adapter's tests run its own section)."""

from __future__ import annotations

import pytest
from markdown_blocks import python_blocks, run_block


def test_numpy_example_runs():
    (block,) = python_blocks("README.md", "The core on NumPy")
    namespace = run_block(block, "README numpy example")
    assert namespace["out"].shape == (32, 64, 7, 7)


@pytest.mark.backend("torch")
def test_torch_tensor_example_runs():
    (block,) = python_blocks("README.md", "The same kernel on PyTorch tensors")
    namespace = run_block(block, "README torch example")
    assert namespace["x"].grad is not None
