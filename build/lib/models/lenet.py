"""LeNet-5 (LeCun et al. 1998): the lecture's convolutional network for digits.

Two convolution + pooling stages extract feature maps with local connectivity and shared
weights; three fully connected layers classify. Modern defaults (ReLU, max-pooling) train
faster than the original tanh/subsampling and reach the paper's 0.95% MNIST test error.
"""
from __future__ import annotations

import nn
from tensorlite import Tensor


class LeNet5(nn.Module):
    """(N, in_channels, 28, 28) images -> (N, num_classes) logits."""

    def __init__(self, num_classes: int = 10, in_channels: int = 1,
                 activation: str = "relu") -> None:
        super().__init__()
        act = {"relu": nn.ReLU, "tanh": nn.Tanh}.get(activation)
        if act is None:
            raise ValueError(f"LeNet5: activation must be 'relu' or 'tanh', got {activation!r}")
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 6, kernel_size=5, padding=2),  # 28x28 -> 6 maps of 28x28
            act(),
            nn.MaxPool2d(2),                                     # -> 14x14
            nn.Conv2d(6, 16, kernel_size=5),                     # -> 16 maps of 10x10
            act(),
            nn.MaxPool2d(2),                                     # -> 5x5
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(16 * 5 * 5, 120),
            act(),
            nn.Linear(120, 84),
            act(),
            nn.Linear(84, num_classes),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(self.features(x))
