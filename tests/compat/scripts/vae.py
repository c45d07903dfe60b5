"""Variational autoencoder in the style of PyTorch's examples/vae/main.py: fc encoder to
(mu, logvar), reparameterization, sigmoid decoder, loss = binary_cross_entropy(reduction=
'sum') + KL divergence, Adam. float64 on synthetic "images" in [0, 1]; the noise of the
reparameterization comes from numpy (the original draws torch.randn_like)."""
import argparse

import numpy as np
import torch
import torch.utils.data
from torch import nn, optim
from torch.nn import functional as F

RESULTS = {}
TOLERANCE = dict(rtol=1e-8, atol=1e-9)

parser = argparse.ArgumentParser(description='VAE MNIST Example')
parser.add_argument('--batch-size', type=int, default=16, metavar='N')
parser.add_argument('--epochs', type=int, default=2, metavar='N')
parser.add_argument('--no-accel', action='store_true')
parser.add_argument('--seed', type=int, default=1, metavar='S')
parser.add_argument('--log-interval', type=int, default=2, metavar='N')
args = parser.parse_args()

use_accel = not args.no_accel and torch.accelerator.is_available()
torch.manual_seed(args.seed)
device = torch.accelerator.current_accelerator() if use_accel else torch.device("cpu")

D = 64
rng = np.random.default_rng(0)
images = 1 / (1 + np.exp(-3 * rng.normal(size=(64, 1, 8, 8))))
train_loader = torch.utils.data.DataLoader(
    torch.utils.data.TensorDataset(torch.from_numpy(images), torch.zeros(64)),
    batch_size=args.batch_size, shuffle=False)
noise = np.random.default_rng(1)


class VAE(nn.Module):
    def __init__(self):
        super(VAE, self).__init__()
        self.fc1 = nn.Linear(D, 32)
        self.fc21 = nn.Linear(32, 4)
        self.fc22 = nn.Linear(32, 4)
        self.fc3 = nn.Linear(4, 32)
        self.fc4 = nn.Linear(32, D)

    def encode(self, x):
        h1 = F.relu(self.fc1(x))
        return self.fc21(h1), self.fc22(h1)

    def reparameterize(self, mu, logvar):
        std = torch.exp(0.5 * logvar)
        eps = torch.from_numpy(noise.standard_normal(size=tuple(std.shape)))
        return mu + eps * std

    def decode(self, z):
        h3 = F.relu(self.fc3(z))
        return torch.sigmoid(self.fc4(h3))

    def forward(self, x):
        mu, logvar = self.encode(x.view(-1, D))
        z = self.reparameterize(mu, logvar)
        return self.decode(z), mu, logvar


model = VAE().to(device).double()
g = np.random.default_rng(2)
for p in model.parameters():
    p.data.copy_(torch.from_numpy(g.normal(scale=0.2, size=tuple(p.shape))))
optimizer = optim.Adam(model.parameters(), lr=1e-3)


def loss_function(recon_x, x, mu, logvar):
    BCE = F.binary_cross_entropy(recon_x, x.view(-1, D), reduction='sum')
    KLD = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return BCE + KLD


def train(epoch):
    model.train()
    train_loss = 0
    for batch_idx, (data, _) in enumerate(train_loader):
        data = data.to(device)
        optimizer.zero_grad()
        recon_batch, mu, logvar = model(data)
        loss = loss_function(recon_batch, data, mu, logvar)
        loss.backward()
        train_loss += loss.item()
        optimizer.step()
        RESULTS.setdefault("loss", []).append(loss.item() / len(data))
        if batch_idx % args.log_interval == 0:
            print('Train Epoch: {} [{}/{} ({:.0f}%)]\tLoss: {:.6f}'.format(
                epoch, batch_idx * len(data), len(train_loader.dataset),
                100. * batch_idx / len(train_loader), loss.item() / len(data)))
    print('====> Epoch: {} Average loss: {:.4f}'.format(
          epoch, train_loss / len(train_loader.dataset)))


for epoch in range(1, args.epochs + 1):
    train(epoch)
    with torch.no_grad():
        sample = torch.from_numpy(noise.standard_normal((8, 4))).to(device)
        sample = model.decode(sample).cpu()
        RESULTS.setdefault("sample_mean", []).append(sample.view(8, 1, 8, 8).mean().item())
