"""A CNN sentence classifier (Kim, 2014) as commonly written: nn.Embedding, several
nn.Conv1d widths over embeds.permute(0, 2, 1), ReLU, max over time (F.max_pool1d with the
full length), torch.cat, dropout (p=0 here), Linear; Adam with weight decay, gradient
clipping, accuracy with (preds == y).float().mean(). float32 as usual (loose comparison)."""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

RESULTS = {}
TOLERANCE = dict(rtol=2e-4, atol=1e-5)

VOCAB, EMB, N_CLASSES, SEQ = 30, 8, 2, 12
rng = np.random.default_rng(0)
X = rng.integers(1, VOCAB, size=(64, SEQ))
X[:, -3:] = 0                                               # padding
Y = ((X == 5).any(1) | (X == 7).any(1)).astype(np.int64)    # "contains a keyword"


class TextCNN(nn.Module):
    def __init__(self, vocab_size, embed_dim, n_filters, filter_sizes, output_dim, dropout,
                 pad_idx):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_dim, padding_idx=pad_idx)
        self.convs = nn.ModuleList([
            nn.Conv1d(in_channels=embed_dim, out_channels=n_filters, kernel_size=fs)
            for fs in filter_sizes
        ])
        self.fc = nn.Linear(len(filter_sizes) * n_filters, output_dim)
        self.dropout = nn.Dropout(dropout)

    def forward(self, text):
        embedded = self.embedding(text)            # [batch size, sent len, emb dim]
        embedded = embedded.permute(0, 2, 1)       # [batch size, emb dim, sent len]
        conved = [F.relu(conv(embedded)) for conv in self.convs]
        pooled = [F.max_pool1d(conv, conv.shape[2]).squeeze(2) for conv in conved]
        cat = self.dropout(torch.cat(pooled, dim=1))
        return self.fc(cat)


model = TextCNN(VOCAB, EMB, 4, [2, 3, 4], N_CLASSES, 0.0, 0)
g = np.random.default_rng(1)
state = {k: torch.from_numpy(g.normal(scale=0.3, size=tuple(v.shape)).astype(np.float32))
         for k, v in model.state_dict().items()}
state["embedding.weight"][0] = 0
model.load_state_dict(state)
print(f'The model has {sum(p.numel() for p in model.parameters() if p.requires_grad):,} '
      'trainable parameters')

optimizer = torch.optim.Adam(model.parameters(), lr=0.01, weight_decay=1e-4)
criterion = nn.CrossEntropyLoss()


def binary_accuracy(preds, y):
    return (preds.argmax(1) == y).float().mean()


history = []
for epoch in range(3):
    model.train()
    epoch_loss, epoch_acc = 0, 0
    for i in range(0, 64, 16):
        text = torch.from_numpy(X[i:i + 16])
        label = torch.from_numpy(Y[i:i + 16])
        optimizer.zero_grad()
        predictions = model(text)
        loss = criterion(predictions, label)
        acc = binary_accuracy(predictions, label)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        optimizer.step()
        epoch_loss += loss.item()
        epoch_acc += acc.item()
        history.append(loss.item())
    print(f'Epoch: {epoch + 1:02} | Train Loss: {epoch_loss / 4:.3f} | '
          f'Train Acc: {epoch_acc * 100 / 4:.2f}%')
RESULTS["loss"] = history
model.eval()
with torch.no_grad():
    RESULTS["probs"] = F.softmax(model(torch.from_numpy(X[:5])), dim=1).tolist()
