"""The forward-forward algorithm (Hinton, 2022) in the style of PyTorch's
examples/mnist_forward_forward: labels overlaid on the input, per-layer goodness
(mean squared activation) pushed above a threshold for positive and below it for negative
data, each layer trained with its own Adam on detached inputs, prediction by the label of
highest total goodness. float64; the negative labels come from numpy."""
import numpy as np
import torch
import torch.nn as nn
from torch.optim import Adam

RESULTS = {}
TOLERANCE = dict(rtol=1e-7, atol=1e-9)

rng = np.random.default_rng(0)


def overlay_y_on_x(x, y):
    """Replace the first 10 pixels of data [x] with one-hot-encoded label [y]"""
    x_ = x.clone()
    x_[:, :10] *= 0.0
    x_[range(x.shape[0]), y] = x.max()
    return x_


class Net(torch.nn.Module):
    def __init__(self, dims):
        super().__init__()
        self.layers = []
        for d in range(len(dims) - 1):
            self.layers += [Layer(dims[d], dims[d + 1], seed=d)]

    def predict(self, x):
        goodness_per_label = []
        for label in range(10):
            h = overlay_y_on_x(x, label)
            goodness = []
            for layer in self.layers:
                h = layer(h)
                goodness += [h.pow(2).mean(1)]
            goodness_per_label += [sum(goodness).unsqueeze(1)]
        goodness_per_label = torch.cat(goodness_per_label, 1)
        return goodness_per_label.argmax(1)

    def train(self, x_pos, x_neg):
        h_pos, h_neg = x_pos, x_neg
        for i, layer in enumerate(self.layers):
            print('training layer', i, '...')
            h_pos, h_neg = layer.train(h_pos, h_neg)


class Layer(nn.Linear):
    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None, seed=0):
        super().__init__(in_features, out_features, bias, device, dtype)
        self.double()
        g = np.random.default_rng(10 + seed)
        with torch.no_grad():
            self.weight.copy_(torch.from_numpy(g.normal(scale=0.1, size=tuple(self.weight.shape))))
            self.bias.zero_()
        self.relu = torch.nn.ReLU()
        self.opt = Adam(self.parameters(), lr=0.03)
        self.threshold = 2.0
        self.num_epochs = 20

    def forward(self, x):
        x_direction = x / (x.norm(2, 1, keepdim=True) + 1e-4)
        return self.relu(
            torch.mm(x_direction, self.weight.T) +
            self.bias.unsqueeze(0))

    def train(self, x_pos, x_neg):
        for i in range(self.num_epochs):
            g_pos = self.forward(x_pos).pow(2).mean(1)
            g_neg = self.forward(x_neg).pow(2).mean(1)
            loss = torch.log(1 + torch.exp(torch.cat([
                -g_pos + self.threshold,
                g_neg - self.threshold]))).mean()
            self.opt.zero_grad()
            loss.backward()
            self.opt.step()
            RESULTS.setdefault("loss", []).append(loss.item())
        return self.forward(x_pos).detach(), self.forward(x_neg).detach()


labels = rng.integers(0, 10, 100)
data = np.random.default_rng(3).normal(size=(10, 36))[labels] + 0.5 * rng.normal(size=(100, 36))
x, y = torch.from_numpy(data[:80]), torch.from_numpy(labels[:80])
x_te, y_te = torch.from_numpy(data[80:]), torch.from_numpy(labels[80:])

net = Net([36, 24, 24])
x_pos = overlay_y_on_x(x, y)
rnd = torch.from_numpy(rng.permutation(x.size(0)))
x_neg = overlay_y_on_x(x, y[rnd])
net.train(x_pos, x_neg)
train_error = 1.0 - net.predict(x).eq(y).float().mean().item()
test_error = 1.0 - net.predict(x_te).eq(y_te).float().mean().item()
print('train error:', train_error, 'test error:', test_error)
RESULTS["errors"] = [train_error, test_error]
