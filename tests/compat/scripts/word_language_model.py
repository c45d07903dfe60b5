"""Word-level LSTM language model in the style of PyTorch's examples/word_language_model
(model.py + main.py + generate.py): batchify, get_batch, repackage_hidden, clip_grad_norm_,
the manual SGD update through p.data, evaluation, checkpoint, text generation. float64;
the corpus is generated text, dropout 0, weights from numpy, greedy generation compared
(and multinomial sampling only checked for validity: the two libraries draw differently)."""
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

RESULTS = {}
TOLERANCE = dict(rtol=1e-8, atol=1e-10)


class Dictionary(object):
    def __init__(self):
        self.word2idx = {}
        self.idx2word = []

    def add_word(self, word):
        if word not in self.word2idx:
            self.idx2word.append(word)
            self.word2idx[word] = len(self.idx2word) - 1
        return self.word2idx[word]

    def __len__(self):
        return len(self.idx2word)


class Corpus(object):
    def __init__(self, lines):
        self.dictionary = Dictionary()
        self.train = self.tokenize(lines[:40])
        self.valid = self.tokenize(lines[40:50])

    def tokenize(self, lines):
        idss = []
        for line in lines:
            words = line.split() + ['<eos>']
            ids = []
            for word in words:
                ids.append(self.dictionary.add_word(word))
            idss.append(torch.tensor(ids).type(torch.int64))
        ids = torch.cat(idss)
        return ids


class RNNModel(nn.Module):
    """Container module with an encoder, a recurrent module, and a decoder."""

    def __init__(self, rnn_type, ntoken, ninp, nhid, nlayers, dropout=0.5, tie_weights=False):
        super(RNNModel, self).__init__()
        self.ntoken = ntoken
        self.drop = nn.Dropout(dropout)
        self.encoder = nn.Embedding(ntoken, ninp)
        if rnn_type in ['LSTM', 'GRU']:
            self.rnn = getattr(nn, rnn_type)(ninp, nhid, nlayers, dropout=dropout)
        else:
            nonlinearity = {'RNN_TANH': 'tanh', 'RNN_RELU': 'relu'}[rnn_type]
            self.rnn = nn.RNN(ninp, nhid, nlayers, nonlinearity=nonlinearity, dropout=dropout)
        self.decoder = nn.Linear(nhid, ntoken)
        if tie_weights:
            if nhid != ninp:
                raise ValueError('When using the tied flag, nhid must be equal to emsize')
            self.decoder.weight = self.encoder.weight
        self.init_weights()
        self.rnn_type = rnn_type
        self.nhid = nhid
        self.nlayers = nlayers

    def init_weights(self):
        initrange = 0.1
        nn.init.uniform_(self.encoder.weight, -initrange, initrange)
        nn.init.zeros_(self.decoder.bias)
        nn.init.uniform_(self.decoder.weight, -initrange, initrange)

    def forward(self, input, hidden):
        emb = self.drop(self.encoder(input))
        output, hidden = self.rnn(emb, hidden)
        output = self.drop(output)
        decoded = self.decoder(output)
        decoded = decoded.view(-1, self.ntoken)
        return F.log_softmax(decoded, dim=1), hidden

    def init_hidden(self, bsz):
        weight = next(self.parameters())
        if self.rnn_type == 'LSTM':
            return (weight.new_zeros(self.nlayers, bsz, self.nhid),
                    weight.new_zeros(self.nlayers, bsz, self.nhid))
        else:
            return weight.new_zeros(self.nlayers, bsz, self.nhid)


def batchify(data, bsz):
    nbatch = data.size(0) // bsz
    data = data.narrow(0, 0, nbatch * bsz)
    data = data.view(bsz, -1).t().contiguous()
    return data.to(device)


def repackage_hidden(h):
    """Wraps hidden states in new Tensors, to detach them from their history."""
    if isinstance(h, torch.Tensor):
        return h.detach()
    else:
        return tuple(repackage_hidden(v) for v in h)


def get_batch(source, i):
    seq_len = min(bptt, len(source) - 1 - i)
    data = source[i:i + seq_len]
    target = source[i + 1:i + 1 + seq_len].view(-1)
    return data, target


def evaluate(data_source):
    model.eval()
    total_loss = 0.
    hidden = model.init_hidden(eval_batch_size)
    with torch.no_grad():
        for i in range(0, data_source.size(0) - 1, bptt):
            data, targets = get_batch(data_source, i)
            output, hidden = model(data, hidden)
            hidden = repackage_hidden(hidden)
            total_loss += len(data) * criterion(output, targets).item()
    return total_loss / (len(data_source) - 1)


def train():
    model.train()
    total_loss = 0.
    hidden = model.init_hidden(batch_size)
    for batch, i in enumerate(range(0, train_data.size(0) - 1, bptt)):
        data, targets = get_batch(train_data, i)
        hidden = repackage_hidden(hidden)
        model.zero_grad()
        output, hidden = model(data, hidden)
        loss = criterion(output, targets)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        for p in model.parameters():
            p.data.add_(p.grad, alpha=-lr)
        total_loss += loss.item()
        RESULTS.setdefault("train_loss", []).append(loss.item())


rng = np.random.default_rng(0)
vocab = "the cat dog sat on mat ran to a house big small red".split()
lines = [" ".join(vocab[j] for j in rng.integers(0, len(vocab), size=rng.integers(3, 9)))
         for _ in range(50)]

torch.manual_seed(1111)
device = torch.device("cpu")
corpus = Corpus(lines)
eval_batch_size = 4
batch_size = 4
bptt = 7
clip = 0.25
lr = 5.0
train_data = batchify(corpus.train, batch_size)
val_data = batchify(corpus.valid, eval_batch_size)

ntokens = len(corpus.dictionary)
for rnn_type, tied in [("LSTM", False), ("GRU", True), ("RNN_TANH", False)]:
    model = RNNModel(rnn_type, ntokens, 16, 16, 2, 0.0, tied).to(device).double()
    g = np.random.default_rng(2)
    for p in model.parameters():
        p.data.copy_(torch.from_numpy(g.uniform(-0.1, 0.1, size=tuple(p.shape))))
    criterion = nn.NLLLoss()
    best_val_loss = None
    for epoch in range(1, 3):
        train()
        val_loss = evaluate(val_data)
        print('| end of epoch {:3d} | valid loss {:5.2f} | valid ppl {:8.2f}'.format(
            epoch, val_loss, math.exp(val_loss)))
        RESULTS.setdefault("val_loss", []).append(val_loss)
        if not best_val_loss or val_loss < best_val_loss:
            with open('model.pt', 'wb') as f:
                torch.save(model.state_dict(), f)
            best_val_loss = val_loss
        else:
            lr /= 4.0

with open('model.pt', 'rb') as f:
    model.load_state_dict(torch.load(f))

# generate.py: greedy words (compared), then sampled words (valid ids only)
model.eval()
hidden = model.init_hidden(1)
input = torch.randint(ntokens, (1, 1), dtype=torch.long).to(device)
input.fill_(corpus.dictionary.word2idx["the"])
words = []
with torch.no_grad():
    for i in range(12):
        output, hidden = model(input, hidden)
        word_weights = output.squeeze().div(1.0).exp().cpu()
        word_idx = torch.argmax(word_weights).item()
        input.fill_(word_idx)
        words.append(corpus.dictionary.idx2word[word_idx])
    print(" ".join(words))
    sampled = []
    for i in range(12):
        output, hidden = model(input, hidden)
        word_weights = output.squeeze().div(0.8).exp().cpu()
        word_idx = torch.multinomial(word_weights, 1)[0]
        input.fill_(word_idx)
        sampled.append(corpus.dictionary.idx2word[word_idx])
assert len(sampled) == 12 and all(w in corpus.dictionary.word2idx for w in sampled)
RESULTS["generated"] = words
