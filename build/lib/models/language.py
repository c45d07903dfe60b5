"""Language models of the lecture: Bengio et al.'s neural LM and recurrent LMs."""
from __future__ import annotations

from typing import Any, Optional, Tuple

import nn
import tensorlite as tl
from tensorlite import Tensor


class NeuralLM(nn.Module):
    """Bengio et al. (2003): P(w_t | w_{t-n+1} .. w_{t-1}).

    The n-1 previous words are looked up in ONE shared embedding table C and
    concatenated: x = [C(w_{t-1}), ..., C(w_{t-n+1})]; then
    y = b + W x + U tanh(d + H x) and softmax(y) over the vocabulary. ``direct=True``
    keeps the paper's optional direct connections W x. ``embed_dropout`` and ``dropout``
    (neither in the paper) act on x and on the tanh layer; ``init_range`` starts C at
    U(-init_range, init_range) (None keeps nn.Embedding's N(0, 1)).
    """

    def __init__(self, vocab_size: int, context: int = 4, embed_dim: int = 100,
                 hidden: int = 200, direct: bool = False, dropout: float = 0.0,
                 embed_dropout: float = 0.0, init_range: Optional[float] = 0.1) -> None:
        super().__init__()
        self.context = context
        self.embedding = nn.Embedding(vocab_size, embed_dim)                # C
        if init_range is not None:
            # nn.Embedding's N(0, 1) start leaves every rare word as loud noise in the
            # concatenation that Adam's ~1e-3 steps take thousands of updates to quieten;
            # U(-0.1, 0.1) gave 246 against 309 validation perplexity after half an epoch
            # on Penn Treebank (hidden 512, dropout 0.5).
            nn.init.uniform_(self.embedding.weight, -init_range, init_range)
        self.hidden = nn.Linear(context * embed_dim, hidden)               # H, d
        self.output = nn.Linear(hidden, vocab_size)                        # U, b
        self.direct = nn.Linear(context * embed_dim, vocab_size, bias=False) if direct else None
        self.embed_dropout = nn.Dropout(embed_dropout)
        self.dropout = nn.Dropout(dropout)

    def forward(self, context_ids: Tensor) -> Tensor:
        """(N, n-1) int64 word ids -> (N, vocab) logits."""
        if context_ids.ndim != 2 or context_ids.shape[1] != self.context:
            raise ValueError(f"NeuralLM: expected context ids of shape (N, {self.context}), got "
                             f"{tuple(context_ids.shape)}")
        x = self.embedding(context_ids).flatten(1)        # concatenation of the n-1 embeddings
        x = self.embed_dropout(x)   # dropout is not in the paper: optional on the input,
        h = self.dropout(self.hidden(x).tanh())             # and on the hidden layer
        y = self.output(h)
        if self.direct is not None:
            y = y + self.direct(x)
        return y


class RNNLM(nn.Module):
    """Embedding -> RNN/LSTM/GRU (stacked) -> linear decoder over the vocabulary.

    The lecture's recurrence h_t = tanh(b + U h_{t-1} + W C(w_t)) is ``cell='rnn'``; the
    LSTM adds input/forget/output gates and a cell state. ``tie_weights`` shares the
    embedding matrix with the decoder (Press & Wolf 2017; needs embed_dim == hidden).
    """

    def __init__(self, vocab_size: int, embed_dim: int = 200, hidden: int = 200,
                 num_layers: int = 2, cell: str = "lstm", dropout: float = 0.0,
                 tie_weights: bool = False, init_range: Optional[float] = 0.1) -> None:
        super().__init__()
        rnn_cls = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}.get(cell)
        if rnn_cls is None:
            raise ValueError(f"RNNLM: cell must be 'rnn', 'lstm' or 'gru', got {cell!r}")
        self.cell = cell
        self.num_layers, self.hidden_size = num_layers, hidden
        self.drop = nn.Dropout(dropout)
        self.encoder = nn.Embedding(vocab_size, embed_dim)
        self.rnn = rnn_cls(embed_dim, hidden, num_layers,
                           dropout=dropout if num_layers > 1 else 0.0)
        self.decoder = nn.Linear(hidden, vocab_size)
        if init_range is not None:
            # Zaremba et al. initialise every weight uniformly in [-0.1, 0.1].
            for p in self.parameters():
                nn.init.uniform_(p, -init_range, init_range)
        if tie_weights:
            if embed_dim != hidden:
                raise ValueError("RNNLM: tie_weights needs embed_dim == hidden, got "
                                 f"{embed_dim} and {hidden}")
            self.decoder.weight = self.encoder.weight

    def init_hidden(self, batch_size: int, dtype: Any = None) -> Any:
        dtype = dtype or self.decoder.weight.dtype
        h = tl.zeros(self.num_layers, batch_size, self.hidden_size, dtype=dtype)
        return (h, tl.zeros(self.num_layers, batch_size, self.hidden_size, dtype=dtype)) \
            if self.cell == "lstm" else h

    def forward(self, ids: Tensor, hidden: Any = None) -> Tuple[Tensor, Any]:
        """(T, N) word ids -> ((T, N, vocab) logits, final hidden state)."""
        emb = self.drop(self.encoder(ids))
        out, hidden = self.rnn(emb, hidden)
        return self.decoder(self.drop(out)), hidden


def detach_hidden(hidden: Any) -> Any:
    """Cut the graph between BPTT segments while carrying the state's values forward."""
    if isinstance(hidden, tuple):
        return tuple(h.detach() for h in hidden)
    return None if hidden is None else hidden.detach()
