"""Idioms from older and forum-style PyTorch code: Variable, typed constructors
(torch.FloatTensor / LongTensor), the old tutorial's custom ReLU Function with
grad_input[input < 0] = 0, a DCGAN-style weights_init applied with model.apply, a custom
Dataset with random_split, BatchNorm and Dropout in eval mode, ReduceLROnPlateau,
CosineAnnealingLR, clip_grad_value_, zero_grad(set_to_none=False), the @torch.no_grad()
decorator, inference_mode, the optimizer's param_groups, one_hot, checkpoint dicts with
torch.save/torch.load(map_location=...). float64."""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.autograd import Variable
from torch.utils.data import DataLoader, Dataset, random_split

RESULTS = {}
TOLERANCE = dict(rtol=1e-8, atol=1e-10)
rng = np.random.default_rng(0)


class MyReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return input.clamp(min=0)

    @staticmethod
    def backward(ctx, grad_output):
        input, = ctx.saved_tensors
        grad_input = grad_output.clone()
        grad_input[input < 0] = 0
        return grad_input


# -- the old "two-layer net with Variables" tutorial ------------------------------------------
dtype = torch.DoubleTensor
N, D_in, H, D_out = 16, 10, 8, 3
x = Variable(torch.from_numpy(rng.normal(size=(N, D_in))).type(dtype), requires_grad=False)
y = Variable(torch.from_numpy(rng.normal(size=(N, D_out))).type(dtype), requires_grad=False)
w1 = Variable(torch.from_numpy(rng.normal(size=(D_in, H))).type(dtype), requires_grad=True)
w2 = Variable(torch.from_numpy(rng.normal(size=(H, D_out))).type(dtype), requires_grad=True)
assert isinstance(w1, torch.DoubleTensor) and not isinstance(w1, torch.FloatTensor)
learning_rate = 1e-3
losses = []
for t in range(50):
    relu = MyReLU.apply
    y_pred = relu(x.mm(w1)).mm(w2)
    loss = (y_pred - y).pow(2).sum()
    losses.append(loss.data.item())
    loss.backward()
    w1.data -= learning_rate * w1.grad.data
    w2.data -= learning_rate * w2.grad.data
    w1.grad.data.zero_()
    w2.grad.data.zero_()
RESULTS["variables"] = losses
RESULTS["typed"] = [torch.FloatTensor(2, 3).shape[1], torch.LongTensor([1.7, 2.2]).tolist(),
                    list(torch.Tensor(4).size())]


# -- a classifier with the usual trimmings -----------------------------------------------------
class Blobs(Dataset):
    def __init__(self, n):
        self.labels = rng.integers(0, 3, n)
        self.x = np.random.default_rng(7).normal(size=(3, 1, 6, 6))[self.labels] \
            + 0.7 * rng.normal(size=(n, 1, 6, 6))

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, idx):
        return torch.from_numpy(self.x[idx]), int(self.labels[idx])


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, kernel_size=3, padding=1)
        self.bn = nn.BatchNorm2d(4)
        self.pool = nn.MaxPool2d(2, 2)
        self.drop = nn.Dropout(p=0.5)
        self.fc = nn.Linear(4 * 3 * 3, 3)

    def forward(self, x):
        x = self.pool(F.relu(self.bn(self.conv(x))))
        x = x.view(x.size(0), -1)
        x = F.dropout(x, p=0.0, training=self.training)
        return self.fc(x)


def weights_init(m):
    classname = m.__class__.__name__
    g = np.random.default_rng(len(classname))
    if classname.find('Conv') != -1 or classname.find('Linear') != -1:
        m.weight.data.copy_(torch.from_numpy(g.normal(0.0, 0.2, size=tuple(m.weight.shape))))
        nn.init.constant_(m.bias, 0.01)
    elif classname.find('BatchNorm') != -1:
        nn.init.normal_(m.weight.data, 1.0, 0.0)
        nn.init.constant_(m.bias.data, 0)


dataset = Blobs(60)
# random_split runs, but its draws differ between libraries (seeded or not): the split
# compared is fixed by numpy.
train_set, val_set = random_split(dataset, [48, 12], generator=torch.Generator().manual_seed(42))
assert len(train_set) == 48 and len(set(train_set.indices) | set(val_set.indices)) == 60
perm = rng.permutation(60)
train_loader = DataLoader(torch.utils.data.Subset(dataset, perm[:48].tolist()), batch_size=12,
                          shuffle=False, drop_last=True)
val_loader = DataLoader(torch.utils.data.Subset(dataset, perm[48:].tolist()), batch_size=12)

net = Net().double()
net.apply(weights_init)
criterion = nn.CrossEntropyLoss(label_smoothing=0.05)
optimizer = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9, nesterov=True,
                            weight_decay=1e-4)
plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, 'min', factor=0.5, patience=0)
cosine = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=4)


@torch.no_grad()
def validate(model):
    model.eval()
    total, correct, loss = 0, 0, 0.0
    for inputs, labels in val_loader:
        outputs = model(inputs)
        loss += criterion(outputs, labels).item() * labels.size(0)
        _, preds = torch.max(outputs, 1)
        correct += torch.sum(preds == labels.data).item()
        total += labels.size(0)
    model.train()
    return loss / total, correct


history = {"loss": [], "val": [], "lr": []}
for epoch in range(4):
    running_loss = 0.0
    for i, data in enumerate(train_loader, 0):
        inputs, labels = data
        optimizer.zero_grad(set_to_none=False)
        outputs = net(inputs)
        loss = criterion(outputs, labels)
        loss.backward()
        nn.utils.clip_grad_value_(net.parameters(), clip_value=1.0)
        optimizer.step()
        running_loss += loss.item()
        history["loss"].append(loss.item())
    val_loss, correct = validate(net)
    history["val"].append([val_loss, correct])
    plateau.step(val_loss)
    cosine.step()
    history["lr"].append(optimizer.param_groups[0]['lr'])
    print(f'[{epoch + 1}] loss: {running_loss / len(train_loader):.3f} val {val_loss:.3f}')
RESULTS["classifier"] = history
RESULTS["running_var"] = net.bn.running_var.tolist()

with torch.inference_mode():
    probs = F.softmax(net.eval()(torch.from_numpy(dataset.x[:4])), dim=1)
    onehot = F.one_hot(torch.tensor([0, 2, 1]), num_classes=3).float()
RESULTS["probs"] = probs.numpy().tolist()
RESULTS["onehot"] = onehot.tolist()

torch.save({'epoch': 4, 'model_state_dict': net.state_dict(),
            'optimizer_state_dict': optimizer.state_dict(), 'loss': history["loss"][-1]},
           "checkpoint.pth")
checkpoint = torch.load("checkpoint.pth", map_location=torch.device('cpu'), weights_only=True)
net2 = Net().double()
net2.load_state_dict(checkpoint['model_state_dict'])
opt2 = torch.optim.SGD(net2.parameters(), lr=0.05, momentum=0.9, nesterov=True,
                       weight_decay=1e-4)
opt2.load_state_dict(checkpoint['optimizer_state_dict'])
with torch.set_grad_enabled(False):
    RESULTS["reloaded"] = validate(net2)[0]
