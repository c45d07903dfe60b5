"""Residual networks (He et al. 2016) with the lecture's bottleneck block.

A residual block learns F(x) and outputs relu(F(x) + shortcut(x)); the shortcut is the
identity, or a 1x1 convolution ("projection") when the shape changes. The bottleneck
block is the lecture's 1x1 (reduce) -> 3x3 -> 1x1 (expand) stack.
"""
from __future__ import annotations

from typing import Optional, Sequence, Type, Union

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
    (each stage after the first halves the resolution; ``first_stride=2`` makes the first
    stage halve it too), global average pooling, a linear classifier.

    ``stem_width`` (default ``widths[0]``) is the stem's channel count. Halving early with a
    narrow stem buys width for the same multiply-adds: 28x28 images through a 16-channel
    stem and stages 32-64-128 at 14, 7 and 4 cells cost what stages 16-32-64 at 28, 14
    and 7 cost, with four times the parameters.
    """

    def __init__(self, block: Union[str, Type[nn.Module]] = "basic",
                 layers: Sequence[int] = (1, 1, 1), widths: Sequence[int] = (16, 32, 64),
                 num_classes: int = 10, in_channels: int = 1,
                 stem_width: Optional[int] = None, first_stride: int = 1) -> None:
        super().__init__()
        if first_stride not in (1, 2):
            raise ValueError(f"ResNet: first_stride must be 1 or 2, got {first_stride}")
        if isinstance(block, str):
            if block not in ("basic", "bottleneck"):
                raise ValueError(f"ResNet: block must be 'basic', 'bottleneck' or a block class, "
                                 f"got {block!r}")
            block = {"basic": BasicBlock, "bottleneck": Bottleneck}[block]
        if len(layers) != len(widths):
            raise ValueError(f"ResNet: layers {tuple(layers)} and widths {tuple(widths)} must "
                             "have the same length")
        stem_width = stem_width or widths[0]
        self.stem = nn.Sequential(nn.Conv2d(in_channels, stem_width, 3, padding=1, bias=False),
                                  nn.BatchNorm2d(stem_width), nn.ReLU())
        stages = []
        in_ch = stem_width
        for i, (n, w) in enumerate(zip(layers, widths)):
            blocks = []
            for j in range(n):
                stride = 1 if j > 0 else (2 if i > 0 else first_stride)
                blocks.append(block(in_ch, w, stride))
                in_ch = w * block.expansion
            stages.append(nn.Sequential(*blocks))
        self.stages = nn.Sequential(*stages)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(in_ch, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        x = self.stages(self.stem(x))
        return self.fc(self.pool(x).flatten(1))
