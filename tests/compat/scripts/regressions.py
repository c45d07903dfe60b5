"""Linear regression and logistic regression as in the popular tutorial repository
(nn.Linear, MSELoss / CrossEntropyLoss, SGD, torch.from_numpy, torch.max(outputs.data, 1)),
and PyTorch's examples/regression/main.py (polynomial features with torch.cat, an
F.smooth_l1_loss fit, the manual update param.data.add_(-0.1 * param.grad)).
Linear regression in float32 as the original, the rest in float64."""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

RESULTS = {}
TOLERANCE = dict(rtol=1e-5, atol=1e-6)

# -- linear regression (float32, as the tutorial) --------------------------------------------
input_size, output_size, num_epochs, learning_rate = 1, 1, 60, 0.001
x_train = np.array([[3.3], [4.4], [5.5], [6.71], [6.93], [4.168],
                    [9.779], [6.182], [7.59], [2.167], [7.042],
                    [10.791], [5.313], [7.997], [3.1]], dtype=np.float32)
y_train = np.array([[1.7], [2.76], [2.09], [3.19], [1.694], [1.573],
                    [3.366], [2.596], [2.53], [1.221], [2.827],
                    [3.465], [1.65], [2.904], [1.3]], dtype=np.float32)
model = nn.Linear(input_size, output_size)
model.weight.data.fill_(0.1)
model.bias.data.zero_()
criterion = nn.MSELoss()
optimizer = torch.optim.SGD(model.parameters(), lr=learning_rate)
losses = []
for epoch in range(num_epochs):
    inputs = torch.from_numpy(x_train)
    targets = torch.from_numpy(y_train)
    outputs = model(inputs)
    loss = criterion(outputs, targets)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
    if (epoch + 1) % 20 == 0:
        print('Epoch [{}/{}], Loss: {:.4f}'.format(epoch + 1, num_epochs, loss.item()))
predicted = model(torch.from_numpy(x_train)).detach().numpy()
RESULTS["linear"] = losses + predicted.ravel().tolist()

# -- logistic regression on synthetic 8x8 "digits" (float64) ---------------------------------
rng = np.random.default_rng(0)
labels_all = rng.integers(0, 10, 120)
images_all = np.random.default_rng(5).normal(size=(10, 1, 8, 8))[labels_all] \
    + rng.normal(size=(120, 1, 8, 8))
model = nn.Linear(64, 10).double()
with torch.no_grad():
    model.weight.copy_(torch.from_numpy(rng.normal(scale=0.05, size=(10, 64))))
    model.bias.zero_()
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
losses = []
for epoch in range(2):
    for i in range(0, 100, 20):
        images = torch.from_numpy(images_all[i:i + 20]).reshape(-1, 8 * 8)
        labels = torch.from_numpy(labels_all[i:i + 20])
        outputs = model(images)
        loss = criterion(outputs, labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
with torch.no_grad():
    correct = 0
    total = 0
    images = torch.from_numpy(images_all[100:]).reshape(-1, 64)
    labels = torch.from_numpy(labels_all[100:])
    outputs = model(images)
    _, predicted = torch.max(outputs.data, 1)
    total += labels.size(0)
    correct += (predicted == labels).sum()
print('Accuracy of the model on the test images: {} %'.format(100 * correct / total))
RESULTS["logistic"] = losses + [int(correct)]

# -- examples/regression (float64) -----------------------------------------------------------
POLY_DEGREE = 4
W_target = torch.from_numpy(rng.normal(size=(POLY_DEGREE, 1))) * 5
b_target = torch.from_numpy(rng.normal(size=(1,))) * 5


def make_features(x):
    """Builds features i.e. a matrix with columns [x, x^2, x^3, x^4]."""
    x = x.unsqueeze(1)
    return torch.cat([x ** i for i in range(1, POLY_DEGREE+1)], 1)


def f(x):
    """Approximated function."""
    return x.mm(W_target) + b_target.item()


def poly_desc(W, b):
    """Creates a string description of a polynomial."""
    result = 'y = '
    for i, w in enumerate(W):
        result += '{:+.2f} x^{} '.format(w, i + 1)
    result += '{:+.2f}'.format(b[0])
    return result


def get_batch(batch_size=32):
    """Builds a batch i.e. (x, f(x)) pair."""
    random = torch.from_numpy(rng.normal(size=(batch_size,)))
    x = make_features(random)
    y = f(x)
    return x, y


fc = torch.nn.Linear(W_target.size(0), 1).double()
fc.weight.data.copy_(torch.from_numpy(rng.normal(scale=0.1, size=(1, POLY_DEGREE))))
fc.bias.data.fill_(0.0)
losses = []
for batch_idx in range(1, 60):
    batch_x, batch_y = get_batch()
    fc.zero_grad()
    output = F.smooth_l1_loss(fc(batch_x), batch_y)
    loss = output.item()
    output.backward()
    for param in fc.parameters():
        param.data.add_(-0.1 * param.grad)
    losses.append(loss)
    if loss < 1e-3:
        break
print('Loss: {:.6f} after {} batches'.format(loss, batch_idx))
print('==> Learned function:\t' + poly_desc(fc.weight.view(-1), fc.bias))
print('==> Actual function:\t' + poly_desc(W_target.view(-1), b_target))
RESULTS["poly"] = losses
