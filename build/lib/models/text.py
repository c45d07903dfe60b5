"""Text classifiers of the lecture."""
from __future__ import annotations

import nn
import tensorlite as tl
from tensorlite import Tensor


class BagOfEmbeddings(nn.Module):
    """The lecture's averaged-embedding classifier: the sentence vector is the mean of its
    words' embeddings (padding excluded), followed by a small MLP."""

    def __init__(self, vocab_size: int, num_classes: int, embed_dim: int = 100,
                 hidden: int = 0, dropout: float = 0.0, padding_idx: int = 0) -> None:
        super().__init__()
        self.padding_idx = padding_idx
        self.embedding = nn.Embedding(vocab_size, embed_dim, padding_idx=padding_idx)
        layers = [nn.Dropout(dropout)]
        if hidden:
            layers += [nn.Linear(embed_dim, hidden), nn.ReLU(), nn.Dropout(dropout)]
        layers.append(nn.Linear(hidden or embed_dim, num_classes))
        self.classifier = nn.Sequential(*layers)

    def forward(self, ids: Tensor) -> Tensor:
        """(N, T) padded word ids -> (N, classes) logits."""
        mask = (ids != self.padding_idx).to(self.embedding.weight.dtype)       # (N, T)
        summed = (self.embedding(ids) * mask.unsqueeze(-1)).sum(1)             # (N, D)
        count = mask.sum(1, keepdim=True).clamp(min=1.0)
        return self.classifier(summed / count)


class BiRNNClassifier(nn.Module):
    """A bidirectional LSTM reads the sentence both ways; the per-position outputs (both
    directions concatenated) are max-pooled over the real (non-padding) positions."""

    def __init__(self, vocab_size: int, num_classes: int, embed_dim: int = 100,
                 hidden: int = 100, num_layers: int = 1, dropout: float = 0.0,
                 padding_idx: int = 0) -> None:
        super().__init__()
        self.padding_idx = padding_idx
        self.embedding = nn.Embedding(vocab_size, embed_dim, padding_idx=padding_idx)
        self.rnn = nn.LSTM(embed_dim, hidden, num_layers, batch_first=True, bidirectional=True,
                           dropout=dropout if num_layers > 1 else 0.0)
        self.drop = nn.Dropout(dropout)
        self.fc = nn.Linear(2 * hidden, num_classes)

    def forward(self, ids: Tensor) -> Tensor:
        """(N, T) padded word ids -> (N, classes) logits."""
        out, _ = self.rnn(self.drop(self.embedding(ids)))                       # (N, T, 2H)
        pad = (ids == self.padding_idx).unsqueeze(-1)
        out = tl.where(pad, tl.full((), -1e4, dtype=out.dtype), out)
        return self.fc(self.drop(out.amax(1)))
