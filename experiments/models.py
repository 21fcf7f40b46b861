"""The networks: Conv-BN-ReLU blocks, the layer under test, global average pooling, linear head."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

__all__ = ["Net", "conv_bn_relu"]

_CONV = {1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}
_NORM = {1: nn.BatchNorm1d, 2: nn.BatchNorm2d, 3: nn.BatchNorm3d}


def conv_bn_relu(rank: int, channels_in: int, channels_out: int, stride: int = 1) -> nn.Sequential:
    """A 3-wide (3x3, 3x3x3) convolution without bias, batch normalisation and ReLU."""
    return nn.Sequential(
        _CONV[rank](channels_in, channels_out, 3, stride=stride, padding=1, bias=False),
        _NORM[rank](channels_out),
        nn.ReLU(),
    )


class Net(nn.Module):
    """``features -> under_test -> global average pool -> linear head``.

    Parameters
    ----------
    rank : int
        Spatial rank of the input: 1, 2 or 3.
    widths : sequence of int
        Output channels of each Conv-BN-ReLU block; the last is the head's width.
    strides : sequence of int
        The stride of each block (same length as ``widths``).
    classes : int
        Outputs of the linear head.
    under_test : torch.nn.Module
        The layer under test, applied to the last feature maps.
    """

    def __init__(
        self,
        rank: int,
        widths: Sequence[int],
        strides: Sequence[int],
        classes: int,
        under_test: nn.Module,
    ) -> None:
        super().__init__()
        if len(widths) != len(strides):
            raise ValueError(f"widths {widths} and strides {strides} differ in length")
        channels = [1, *widths]
        self.features = nn.Sequential(
            *(
                conv_bn_relu(rank, a, b, s)
                for a, b, s in zip(channels[:-1], widths, strides, strict=True)
            )
        )
        self.under_test = under_test
        self.head = nn.Linear(widths[-1], classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits of shape ``(N, classes)``."""
        maps = self.under_test(self.features(x))
        return self.head(maps.flatten(2).mean(2))
