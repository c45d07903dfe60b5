"""Sequence classifiers with nn.RNN / nn.LSTM / nn.GRU (batch_first), in the style of the
popular tutorial repository's recurrent_neural_network/main.py and bidirectional RNN
(rows of an image read as a sequence), float64."""
import numpy as np
import torch
import torch.nn as nn

RESULTS = {}
TOLERANCE = dict(rtol=1e-9, atol=1e-11)

device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')

sequence_length = 8
input_size = 6
hidden_size = 12
num_layers = 2
num_classes = 4
batch_size = 10
num_epochs = 2
learning_rate = 0.01

rng = np.random.default_rng(0)
X = rng.normal(size=(40, sequence_length, input_size))
Y = (X[:, :, 0].sum(1) > 0).astype(np.int64) + 2 * (X[:, -1, 1] > 0)


class RNN(nn.Module):
    def __init__(self, cell, input_size, hidden_size, num_layers, num_classes,
                 bidirectional=False):
        super(RNN, self).__init__()
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.cell = cell
        self.num_directions = 2 if bidirectional else 1
        rnn_class = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[cell]
        self.rnn = rnn_class(input_size, hidden_size, num_layers, batch_first=True,
                             bidirectional=bidirectional)
        self.fc = nn.Linear(hidden_size * self.num_directions, num_classes)

    def forward(self, x):
        # Set initial hidden (and cell) states
        h0 = torch.zeros(self.num_layers * self.num_directions, x.size(0),
                         self.hidden_size, dtype=x.dtype).to(device)
        if self.cell == "lstm":
            c0 = torch.zeros(self.num_layers * self.num_directions, x.size(0),
                             self.hidden_size, dtype=x.dtype).to(device)
            out, _ = self.rnn(x, (h0, c0))  # out: (batch_size, seq_length, hidden_size)
        else:
            out, _ = self.rnn(x, h0)
        # Decode the hidden state of the last time step
        out = self.fc(out[:, -1, :])
        return out


def numpy_init(model, seed):
    g = np.random.default_rng(seed)
    for p in model.parameters():
        p.data = torch.from_numpy(g.uniform(-0.3, 0.3, size=p.shape))


for cell, bidirectional in [("rnn", False), ("lstm", False), ("gru", False), ("lstm", True),
                            ("gru", True)]:
    model = RNN(cell, input_size, hidden_size, num_layers, num_classes, bidirectional)
    model = model.double().to(device)
    numpy_init(model, 1)

    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)

    losses = []
    total_step = len(X) // batch_size
    for epoch in range(num_epochs):
        for i in range(total_step):
            images = torch.from_numpy(X[i * batch_size:(i + 1) * batch_size])
            labels = torch.from_numpy(Y[i * batch_size:(i + 1) * batch_size])
            images = images.reshape(-1, sequence_length, input_size).to(device)
            labels = labels.to(device)

            outputs = model(images)
            loss = criterion(outputs, labels)

            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
            if (i + 1) % 2 == 0:
                print('Epoch [{}/{}], Step [{}/{}], Loss: {:.4f}'
                      .format(epoch + 1, num_epochs, i + 1, total_step, loss.item()))

    model.eval()
    with torch.no_grad():
        correct = 0
        total = 0
        images = torch.from_numpy(X).reshape(-1, sequence_length, input_size)
        labels = torch.from_numpy(Y)
        outputs = model(images)
        _, predicted = torch.max(outputs.data, 1)
        total += labels.size(0)
        correct += (predicted == labels).sum().item()
    print('Accuracy: {} %'.format(100 * correct / total))
    RESULTS[f"{cell}{'_bi' if bidirectional else ''}"] = {"losses": losses, "correct": correct}

torch.save(model.state_dict(), 'model.ckpt')
