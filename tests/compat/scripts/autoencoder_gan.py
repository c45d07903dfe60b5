"""A convolutional autoencoder (Conv2d down, ConvTranspose2d up, MSELoss) and a small GAN
on 2-D Gaussian-mixture data (BCELoss with real/fake labels, fake.detach(), two Adam
optimizers with betas=(0.5, 0.999)), as in the common tutorials. float64; noise and data
from numpy."""
import numpy as np
import torch
import torch.nn as nn

RESULTS = {}
TOLERANCE = dict(rtol=1e-8, atol=1e-10)

device = 'cuda' if torch.cuda.is_available() else 'cpu'
rng = np.random.default_rng(0)


def set_weights(model, seed, scale=0.3):
    g = np.random.default_rng(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.from_numpy(g.normal(scale=scale, size=tuple(p.shape))))


# -- autoencoder -----------------------------------------------------------------------------
class Autoencoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Conv2d(1, 4, 3, stride=2, padding=1), nn.ReLU(True),
            nn.Conv2d(4, 8, 3, stride=2, padding=1), nn.ReLU(True))
        self.decoder = nn.Sequential(
            nn.ConvTranspose2d(8, 4, 3, stride=2, padding=1, output_padding=1), nn.ReLU(True),
            nn.ConvTranspose2d(4, 1, 3, stride=2, padding=1, output_padding=1), nn.Sigmoid())

    def forward(self, x):
        return self.decoder(self.encoder(x))


images = torch.from_numpy(rng.uniform(size=(24, 1, 8, 8)))
model = Autoencoder().double().to(device)
set_weights(model, 1)
criterion = nn.MSELoss()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2, weight_decay=1e-5)
losses = []
for epoch in range(3):
    for i in range(0, 24, 8):
        img = images[i:i + 8].to(device)
        output = model(img)
        loss = criterion(output, img)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    print('epoch [{}/{}], loss:{:.4f}'.format(epoch + 1, 3, loss.data.item()))
RESULTS["autoencoder"] = losses

# -- GAN ---------------------------------------------------------------------------------------
latent_size, hidden_size, batch_size = 3, 16, 16
G = nn.Sequential(nn.Linear(latent_size, hidden_size), nn.LeakyReLU(0.2),
                  nn.Linear(hidden_size, 2)).double()
D = nn.Sequential(nn.Linear(2, hidden_size), nn.LeakyReLU(0.2),
                  nn.Linear(hidden_size, 1), nn.Sigmoid()).double()
set_weights(G, 2)
set_weights(D, 3)
criterion = nn.BCELoss()
d_optimizer = torch.optim.Adam(D.parameters(), lr=0.0002 * 10, betas=(0.5, 0.999))
g_optimizer = torch.optim.Adam(G.parameters(), lr=0.0002 * 10, betas=(0.5, 0.999))


def reset_grad():
    d_optimizer.zero_grad()
    g_optimizer.zero_grad()


centers = np.array([[2.0, 0.0], [-2.0, 0.0], [0.0, 2.0]])
d_losses, g_losses, scores = [], [], []
for step in range(12):
    real = torch.from_numpy(centers[rng.integers(0, 3, batch_size)]
                            + 0.2 * rng.normal(size=(batch_size, 2))).to(device)
    real_labels = torch.ones(batch_size, 1, dtype=torch.float64).to(device)
    fake_labels = torch.zeros(batch_size, 1, dtype=torch.float64).to(device)

    outputs = D(real)
    d_loss_real = criterion(outputs, real_labels)
    real_score = outputs
    z = torch.from_numpy(rng.normal(size=(batch_size, latent_size))).to(device)
    fake = G(z)
    outputs = D(fake.detach())
    d_loss_fake = criterion(outputs, fake_labels)
    fake_score = outputs
    d_loss = d_loss_real + d_loss_fake
    reset_grad()
    d_loss.backward()
    d_optimizer.step()

    z = torch.from_numpy(rng.normal(size=(batch_size, latent_size))).to(device)
    fake = G(z)
    outputs = D(fake)
    g_loss = criterion(outputs, real_labels)
    reset_grad()
    g_loss.backward()
    g_optimizer.step()
    d_losses.append(d_loss.item())
    g_losses.append(g_loss.item())
    scores.append([real_score.mean().item(), fake_score.mean().item()])
    print('Step [{}/{}], d_loss: {:.4f}, g_loss: {:.4f}, D(x): {:.2f}, D(G(z)): {:.2f}'
          .format(step, 12, d_loss.item(), g_loss.item(),
                  real_score.mean().item(), fake_score.mean().item()))
RESULTS["gan"] = {"d": d_losses, "g": g_losses, "scores": scores}
torch.save(G.state_dict(), 'G.ckpt')
torch.save(D.state_dict(), 'D.ckpt')
