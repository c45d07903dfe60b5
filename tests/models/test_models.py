"""Reference models: forward shapes, and a few optimisation steps lower the loss."""
import numpy as np
import pytest

import nn
import nn.functional as F
import tensorlite as tl
from models import (BagOfEmbeddings, BasicBlock, BiRNNClassifier, Bottleneck, LeNet5, NeuralLM,
                    ResNet, RNNLM)


def _fit(model, make_loss, steps=8, lr=0.05):
    opt = tl.optim.Adam(model.parameters(), lr=lr)
    losses = []
    for _ in range(steps):
        loss = make_loss()
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def test_lenet5_shapes_and_training_lowers_loss():
    tl.manual_seed(0)
    model = LeNet5()
    x, y = tl.randn(8, 1, 28, 28), tl.randint(0, 10, (8,))
    assert model(x).shape == (8, 10)
    losses = _fit(model, lambda: F.cross_entropy(model(x), y), steps=20, lr=0.01)
    assert losses[-1] < 0.5 * losses[0]


def test_bottleneck_is_1x1_3x3_1x1_with_projection_shortcut():
    block = Bottleneck(16, 8, stride=2)
    kernels = [m.kernel_size for m in (block.conv1, block.conv2, block.conv3)]
    assert kernels == [(1, 1), (3, 3), (1, 1)]
    assert block.conv3.out_channels == 32
    assert isinstance(block.shortcut, nn.Sequential)
    assert block(tl.randn(2, 16, 8, 8)).shape == (2, 32, 4, 4)
    assert isinstance(Bottleneck(32, 8).shortcut, nn.Identity)


@pytest.mark.parametrize("block", ["basic", "bottleneck"])
def test_resnet_shapes_and_training_lowers_loss(block):
    tl.manual_seed(0)
    model = ResNet(block, (1, 1), (8, 16), num_classes=10)
    x, y = tl.randn(6, 1, 12, 12), tl.randint(0, 10, (6,))
    assert model(x).shape == (6, 10)
    losses = _fit(model, lambda: F.cross_entropy(model(x), y), lr=0.01)
    assert losses[-1] < 0.5 * losses[0]        # 6 images memorised: the loss falls steadily


def test_resnet_stem_width_and_first_stride_set_the_stage_resolutions():
    model = ResNet("basic", (1, 1, 1), (8, 12, 16), num_classes=3, stem_width=4,
                   first_stride=2)
    x = tl.randn(2, 1, 28, 28)
    h = model.stem(x)
    assert h.shape == (2, 4, 28, 28)
    sizes = []
    for stage in model.stages:
        h = stage(h)
        sizes.append(tuple(h.shape[1:]))
    # Every stage halves (rounding up, padding 1, stride 2): 28 -> 14 -> 7 -> 4.
    assert sizes == [(8, 14, 14), (12, 7, 7), (16, 4, 4)]
    assert model(x).shape == (2, 3)
    with pytest.raises(ValueError, match="first_stride must be 1 or 2"):
        ResNet(first_stride=3)


def test_residual_block_output_is_relu_of_residual_plus_identity():
    block = BasicBlock(4, 4)
    x = tl.randn(1, 4, 5, 5)
    block.eval()
    f = block.bn2(block.conv2(block.bn1(block.conv1(x)).relu()))
    np.testing.assert_allclose(block(x).numpy(), (f + x).relu().numpy(), rtol=1e-5, atol=1e-6)


def test_neural_lm_concatenates_context_embeddings_from_one_table():
    tl.manual_seed(0)
    model = NeuralLM(vocab_size=30, context=3, embed_dim=4, hidden=8)
    ids = tl.tensor([[1, 2, 3], [3, 2, 1]])
    assert model(ids).shape == (2, 30)
    x = model.embedding(ids).flatten(1)
    np.testing.assert_allclose(x.numpy()[0, 4:8], model.embedding.weight.numpy()[2])
    with pytest.raises(ValueError, match="NeuralLM"):
        model(tl.tensor([[1, 2]]))
    y = tl.tensor([4, 5])
    losses = _fit(model, lambda: F.cross_entropy(model(ids), y))
    assert losses[-1] < 0.5 * losses[0]


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_rnnlm_carries_hidden_state_and_learns(cell):
    tl.manual_seed(0)
    model = RNNLM(20, embed_dim=8, hidden=8, num_layers=2, cell=cell)
    ids = tl.randint(0, 20, (5, 3))
    logits, hidden = model(ids)
    assert logits.shape == (5, 3, 20)
    logits2, _ = model(ids, hidden)
    assert not np.allclose(logits.numpy(), logits2.numpy())
    target = tl.randint(0, 20, (5, 3))
    losses = _fit(model, lambda: F.cross_entropy(model(ids)[0].reshape(-1, 20),
                                                 target.reshape(-1)))
    # From about log(20) = 3.0 (uniform) towards memorising 15 random next words.
    assert losses[0] == pytest.approx(np.log(20), abs=0.1) and losses[-1] < 0.85 * losses[0]


def test_rnnlm_tied_weights_share_the_embedding():
    model = RNNLM(20, embed_dim=8, hidden=8, tie_weights=True)
    assert model.decoder.weight is model.encoder.weight
    assert len(list(model.parameters())) == len({id(p) for p in model.parameters()})


def test_bag_of_embeddings_averages_non_padding_words():
    tl.manual_seed(0)
    model = BagOfEmbeddings(10, 2, embed_dim=3)
    model.eval()
    ids = tl.tensor([[1, 2, 0, 0]])
    e = model.embedding.weight.numpy()
    mean = (e[1] + e[2]) / 2
    want = mean @ model.classifier[-1].weight.numpy().T + model.classifier[-1].bias.numpy()
    np.testing.assert_allclose(model(ids).numpy()[0], want, rtol=1e-5, atol=1e-6)
    y = tl.tensor([1])
    model.train()
    assert _fit(model, lambda: F.cross_entropy(model(ids), y))[-1] < 0.2


def test_birnn_classifier_shapes_and_learning():
    tl.manual_seed(0)
    model = BiRNNClassifier(15, 3, embed_dim=6, hidden=5)
    ids = tl.tensor([[1, 2, 3, 0], [4, 5, 0, 0]])
    assert model(ids).shape == (2, 3)
    y = tl.tensor([0, 2])
    losses = _fit(model, lambda: F.cross_entropy(model(ids), y))
    assert losses[-1] < 0.5 * losses[0]


def test_model_constructors_name_a_bad_choice():
    with pytest.raises(ValueError, match="LeNet5: activation must be 'relu' or 'tanh', got 'gelu'"):
        LeNet5(activation="gelu")
    with pytest.raises(ValueError, match="ResNet: block must be 'basic', 'bottleneck'"):
        ResNet("bottle")
    with pytest.raises(ValueError, match="RNNLM: cell must be"):
        RNNLM(10, cell="transformer")


# ---------------------------------------------------------------- parity with PyTorch

@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def _load_into(torch, theirs, ours):
    """Copy our float64 state dict into the PyTorch module (same names), strictly."""
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()},
                           strict=True)


def _compare(torch, ours, theirs, x, modes=("train", "eval")):
    """Outputs, input gradients and weight gradients agree in float64 in each mode."""
    for mode in modes:
        getattr(ours, mode)()
        getattr(theirs, mode)()
        ours.zero_grad()
        theirs.zero_grad()
        xo = tl.tensor(x, requires_grad=x.dtype.kind == "f")
        xt = torch.tensor(x, requires_grad=x.dtype.kind == "f")
        yo, yt = ours(xo), theirs(xt)
        np.testing.assert_allclose(yo.numpy(), yt.detach().numpy(), rtol=1e-10, atol=1e-12)
        w = np.random.default_rng(1).standard_normal(yo.shape)    # a non-uniform upstream
        (yo * tl.tensor(w)).sum().backward()
        (yt * torch.tensor(w)).sum().backward()
        if x.dtype.kind == "f":
            np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), rtol=1e-10, atol=1e-12)
        theirs_params = dict(theirs.named_parameters())
        for name, p in ours.named_parameters():
            np.testing.assert_allclose(p.grad.numpy(), theirs_params[name].grad.numpy(),
                                       rtol=1e-10, atol=1e-12, err_msg=f"{mode}: {name}")


@pytest.mark.parametrize("in_ch, width, stride", [(8, 4, 2), (16, 4, 1), (8, 4, 1)])
def test_bottleneck_matches_a_pytorch_1x1_3x3_1x1_block(torch, in_ch, width, stride):
    # The lecture's block written out in PyTorch: 1x1 reduce, 3x3 (carrying the stride),
    # 1x1 expand x4, each with batch norm, plus the identity or a 1x1 projection shortcut.
    tnn = torch.nn

    class Reference(tnn.Module):
        def __init__(self):
            super().__init__()
            out = 4 * width
            self.conv1, self.bn1 = tnn.Conv2d(in_ch, width, 1, bias=False), tnn.BatchNorm2d(width)
            self.conv2 = tnn.Conv2d(width, width, 3, stride, 1, bias=False)
            self.bn2 = tnn.BatchNorm2d(width)
            self.conv3, self.bn3 = tnn.Conv2d(width, out, 1, bias=False), tnn.BatchNorm2d(out)
            self.shortcut = (tnn.Identity() if stride == 1 and in_ch == out else
                             tnn.Sequential(tnn.Conv2d(in_ch, out, 1, stride, bias=False),
                                            tnn.BatchNorm2d(out)))

        def forward(self, x):
            h = self.bn1(self.conv1(x)).relu()
            h = self.bn2(self.conv2(h)).relu()
            return (self.bn3(self.conv3(h)) + self.shortcut(x)).relu()

    ours, theirs = Bottleneck(in_ch, width, stride).double(), Reference().double()
    assert isinstance(ours.shortcut, nn.Identity) == (stride == 1 and in_ch == 4 * width)
    _load_into(torch, theirs, ours)
    _compare(torch, ours, theirs, np.random.default_rng(0).standard_normal((2, in_ch, 7, 7)))


def test_lenet5_matches_pytorch(torch):
    tnn = torch.nn
    theirs = tnn.Module()
    theirs.features = tnn.Sequential(tnn.Conv2d(1, 6, 5, padding=2), tnn.ReLU(), tnn.MaxPool2d(2),
                                     tnn.Conv2d(6, 16, 5), tnn.ReLU(), tnn.MaxPool2d(2))
    theirs.classifier = tnn.Sequential(tnn.Flatten(), tnn.Linear(400, 120), tnn.ReLU(),
                                       tnn.Linear(120, 84), tnn.ReLU(), tnn.Linear(84, 10))
    theirs.forward = lambda x: theirs.classifier(theirs.features(x))
    ours = LeNet5().double()
    theirs.double()
    _load_into(torch, theirs, ours)
    _compare(torch, ours, theirs, np.random.default_rng(0).standard_normal((3, 1, 28, 28)),
             modes=("train",))


def test_neural_lm_is_bengio_formula_over_one_shared_table(torch):
    # y = b + W x + U tanh(d + H x), x the concatenated embeddings C(w) of the n-1 context
    # words, all looked up in the same C: a word seen at two positions gets the gradient
    # of both in its one row of C.
    tl.manual_seed(0)
    ours = NeuralLM(vocab_size=11, context=3, embed_dim=4, hidden=6, direct=True).double()
    ids = np.array([[1, 2, 1], [3, 3, 3], [0, 10, 2]])
    ours.eval()
    got = ours(tl.tensor(ids))
    upstream = np.random.default_rng(2).standard_normal(got.shape)
    (got * tl.tensor(upstream)).sum().backward()

    p = {k: torch.tensor(v.numpy(), requires_grad=True) for k, v in ours.state_dict().items()}
    x = torch.cat([p["embedding.weight"][torch.tensor(ids[:, k])] for k in range(3)], dim=1)
    h = torch.tanh(x @ p["hidden.weight"].T + p["hidden.bias"])
    want = p["output.bias"] + x @ p["direct.weight"].T + h @ p["output.weight"].T
    (want * torch.tensor(upstream)).sum().backward()
    np.testing.assert_allclose(got.numpy(), want.detach().numpy(), rtol=1e-12, atol=1e-12)
    for name, param in ours.named_parameters():
        np.testing.assert_allclose(param.grad.numpy(), p[name].grad.numpy(), rtol=1e-10,
                                   atol=1e-12, err_msg=name)
    assert len([m for m in ours.modules() if isinstance(m, nn.Embedding)]) == 1
    assert np.all(ours.embedding.weight.grad.numpy()[[4, 5, 6, 7, 8, 9]] == 0)   # unused rows
