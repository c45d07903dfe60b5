"""Residual networks (He et al. 2016) with the lecture's bottleneck block.

A residual block learns F(x) and outputs relu(F(x) + shortcut(x)); the shortcut is the
identity, or a 1x1 convolution ("projection") when the shape changes. The bottleneck
block is the lecture's 1x1 (reduce) -> 3x3 -> 1x1 (expand) stack.
"""
from __future__ import annotations

from typing import Sequence, Type, Union

import nn
from tensorlite import Tensor


def _shortcut(in_ch: int, out_ch: int, stride: int) -> nn.Module:
    if stride == 1 and in_ch == out_ch:
        return nn.Identity()
    return nn.Sequential(nn.Conv2d(in_ch, out_ch, 1, stride=stride, bias=False),
                         nn.BatchNorm2d(out_ch))


class BasicBlock(nn.Module):
    """Two 3x3 convolutions plus the shortcut."""

    expansion = 1

    def __init__(self, in_ch: int, width: int, stride: int = 1) -> None:
        super().__init__()
        out_ch = width * self.expansion
        self.conv1 = nn.Conv2d(in_ch, width, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, out_ch, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_ch)
        self.shortcut = _shortcut(in_ch, out_ch, stride)

    def forward(self, x: Tensor) -> Tensor:
        out = self.bn1(self.conv1(x)).relu()
        out = self.bn2(self.conv2(out))
        return (out + self.shortcut(x)).relu()


class Bottleneck(nn.Module):
    """The lecture's bottleneck: 1x1 reduce -> 3x3 -> 1x1 expand (x4), plus the shortcut."""

    expansion = 4

    def __init__(self, in_ch: int, width: int, stride: int = 1) -> None:
        super().__init__()
        out_ch = width * self.expansion
        self.conv1 = nn.Conv2d(in_ch, width, 1, bias=False)                # 1x1: reduce
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride=stride, padding=1, bias=False)  # 3x3
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, out_ch, 1, bias=False)               # 1x1: expand
        self.bn3 = nn.BatchNorm2d(out_ch)
        self.shortcut = _shortcut(in_ch, out_ch, stride)

    def forward(self, x: Tensor) -> Tensor:
        out = self.bn1(self.conv1(x)).relu()
        out = self.bn2(self.conv2(out)).relu()
        out = self.bn3(self.conv3(out))
        return (out + self.shortcut(x)).relu()


class ResNet(nn.Module):
    """A small ResNet for 28x28 / 32x32 images: a 3x3 stem, then stages of residual blocks
    (each stage after the first halves the resolution), global average pooling, a linear
    classifier."""

    def __init__(self, block: Union[str, Type[nn.Module]] = "basic",
                 layers: Sequence[int] = (1, 1, 1), widths: Sequence[int] = (16, 32, 64),
                 num_classes: int = 10, in_channels: int = 1) -> None:
        super().__init__()
        if isinstance(block, str):
            block = {"basic": BasicBlock, "bottleneck": Bottleneck}[block]
        if len(layers) != len(widths):
            raise ValueError(f"ResNet: layers {tuple(layers)} and widths {tuple(widths)} must "
                             "have the same length")
        self.stem = nn.Sequential(nn.Conv2d(in_channels, widths[0], 3, padding=1, bias=False),
                                  nn.BatchNorm2d(widths[0]), nn.ReLU())
        stages = []
        in_ch = widths[0]
        for i, (n, w) in enumerate(zip(layers, widths)):
            blocks = []
            for j in range(n):
                stride = 2 if (i > 0 and j == 0) else 1
                blocks.append(block(in_ch, w, stride))
                in_ch = w * block.expansion
            stages.append(nn.Sequential(*blocks))
        self.stages = nn.Sequential(*stages)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(in_ch, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        x = self.stages(self.stem(x))
        return self.fc(self.pool(x).flatten(1))
