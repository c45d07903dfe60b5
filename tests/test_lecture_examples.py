"""The lecture's formulas, written out by hand in numpy and compared with the framework.

Each test names the formula it checks. The references are plain loops over the lecture's
definitions, independent of the framework's implementation (and of PyTorch).
"""
import numpy as np
import pytest

import nn
import nn.functional as F
import tensorlite as tl
from models.text import BagOfEmbeddings
from tensorlite.data.text import Vocabulary


def _tanh_rnn_by_hand(x, W, U, b, h0):
    """h_t = tanh(b + U h_{t-1} + W x_t) for one sequence x of shape (T, D)."""
    h, hs = h0, []
    for t in range(x.shape[0]):
        h = np.tanh(b + U @ h + W @ x[t])
        hs.append(h)
    return np.stack(hs)


def test_recurrent_network_over_word_embeddings():
    # The lecture: h_t = tanh(b + U h_{t-1} + W C(w_t)), C the embedding lookup table.
    tl.manual_seed(0)
    emb = nn.Embedding(7, 4).double()
    rnn = nn.RNN(4, 3).double()
    words = tl.tensor([[2], [5], [2], [0]])                  # (T=4, batch 1)
    out, h_n = rnn(emb(words))

    C = emb.weight.numpy()
    W, U = rnn.weight_ih_l0.numpy(), rnn.weight_hh_l0.numpy()
    b = rnn.bias_ih_l0.numpy() + rnn.bias_hh_l0.numpy()      # PyTorch splits b in two
    hs = _tanh_rnn_by_hand(C[[2, 5, 2, 0]], W, U, b, np.zeros(3))
    np.testing.assert_allclose(out.numpy()[:, 0], hs, rtol=0, atol=1e-12)
    np.testing.assert_allclose(h_n.numpy()[0, 0], hs[-1], rtol=0, atol=1e-12)


def test_stacked_and_bidirectional_rnn_by_hand():
    # Stacked: layer 2 reads layer 1's states. Bidirectional: a second RNN reads the
    # sequence backwards; the output at t is [forward h_t ; backward h_t].
    tl.manual_seed(1)
    rnn = nn.RNN(3, 2, num_layers=2, bidirectional=True).double()
    x = np.random.default_rng(0).standard_normal((5, 1, 3))
    out, h_n = rnn(tl.tensor(x))

    def p(name):
        return getattr(rnn, name).numpy()

    def direction(inp, layer, suffix):
        W, U = p(f"weight_ih_l{layer}{suffix}"), p(f"weight_hh_l{layer}{suffix}")
        b = p(f"bias_ih_l{layer}{suffix}") + p(f"bias_hh_l{layer}{suffix}")
        if suffix:
            return _tanh_rnn_by_hand(inp[::-1], W, U, b, np.zeros(2))[::-1]
        return _tanh_rnn_by_hand(inp, W, U, b, np.zeros(2))

    layer0 = np.concatenate([direction(x[:, 0], 0, ""), direction(x[:, 0], 0, "_reverse")], 1)
    layer1 = np.concatenate([direction(layer0, 1, ""), direction(layer0, 1, "_reverse")], 1)
    np.testing.assert_allclose(out.numpy()[:, 0], layer1, rtol=0, atol=1e-12)
    # h_n: (layer, direction) pairs; the backward direction ends at t = 0
    np.testing.assert_allclose(h_n.numpy()[:, 0],
                               [layer0[-1, :2], layer0[0, 2:], layer1[-1, :2], layer1[0, 2:]],
                               rtol=0, atol=1e-12)


def test_lstm_layer_follows_the_gate_equations():
    # i, f, o = sigmoid(.), g = tanh(.) from W x_t + U h_{t-1} + b (PyTorch's row order
    # i, f, g, o); c_t = f * c_{t-1} + i * g; h_t = o * tanh(c_t).
    tl.manual_seed(2)
    lstm = nn.LSTM(3, 2).double()
    x = np.random.default_rng(1).standard_normal((4, 1, 3))
    h0 = np.random.default_rng(2).standard_normal((1, 1, 2))
    c0 = np.random.default_rng(3).standard_normal((1, 1, 2))
    out, (h_n, c_n) = lstm(tl.tensor(x), (tl.tensor(h0), tl.tensor(c0)))

    W, U = lstm.weight_ih_l0.numpy(), lstm.weight_hh_l0.numpy()
    b = lstm.bias_ih_l0.numpy() + lstm.bias_hh_l0.numpy()

    def sigmoid(z):
        return 1 / (1 + np.exp(-z))

    h, c, hs = h0[0, 0], c0[0, 0], []
    for t in range(4):
        z = W @ x[t, 0] + U @ h + b
        i, f, g, o = sigmoid(z[0:2]), sigmoid(z[2:4]), np.tanh(z[4:6]), sigmoid(z[6:8])
        c = f * c + i * g
        h = o * np.tanh(c)
        hs.append(h)
    np.testing.assert_allclose(out.numpy()[:, 0], hs, rtol=0, atol=1e-12)
    np.testing.assert_allclose(h_n.numpy()[0, 0], h, rtol=0, atol=1e-12)
    np.testing.assert_allclose(c_n.numpy()[0, 0], c, rtol=0, atol=1e-12)


def test_embedding_is_one_hot_times_the_table_and_its_gradient_sums_positions():
    # A word's embedding C(w) is the one-hot vector of w times the table; the gradient of
    # the table's row w is the sum over every position where w occurs.
    vocab = Vocabulary.build([["the", "cat", "sat", "on", "the", "mat"]], min_freq=1)
    ids = tl.tensor(vocab.encode(["the", "dog", "sat", "the"]))      # "dog" is out of vocabulary
    assert ids.tolist()[1] == vocab.unk_id == vocab.encode(["zebra"])[0]
    table = tl.tensor(np.random.default_rng(4).standard_normal((len(vocab), 3)),
                      requires_grad=True)
    one_hot = F.one_hot(ids, len(vocab)).double()
    np.testing.assert_allclose(F.embedding(ids, table).numpy(),
                               one_hot.numpy() @ table.numpy(), rtol=0, atol=1e-15)

    upstream = np.random.default_rng(5).standard_normal((4, 3))
    F.embedding(ids, table).backward(tl.tensor(upstream))
    expected = np.zeros((len(vocab), 3))
    for position, word in enumerate(ids.tolist()):
        expected[word] += upstream[position]
    np.testing.assert_allclose(table.grad.numpy(), expected, rtol=0, atol=1e-15)
    the = vocab.encode(["the"])[0]
    np.testing.assert_allclose(table.grad.numpy()[the], upstream[0] + upstream[3])


def test_bag_of_embeddings_averages_the_words_of_each_sentence():
    # The sentence vector is the mean of its words' embeddings (padding left out),
    # followed by the classifier.
    tl.manual_seed(3)
    model = BagOfEmbeddings(vocab_size=6, num_classes=2, embed_dim=4, padding_idx=0).double()
    model.eval()
    ids = tl.tensor([[3, 1, 4, 0, 0], [5, 5, 2, 1, 1]])
    C = model.embedding.weight.numpy()
    lin = model.classifier[-1]
    W, b = lin.weight.numpy(), lin.bias.numpy()
    expected = np.stack([C[[3, 1, 4]].mean(0), C[[5, 5, 2, 1, 1]].mean(0)]) @ W.T + b
    np.testing.assert_allclose(model(ids).numpy(), expected, rtol=0, atol=1e-12)


def test_convolution_with_several_input_channels_sums_over_channels():
    # A feature map: y[o, i, j] = b[o] + sum_c sum_{u,v} x[c, i+u, j+v] w[o, c, u, v]
    # (local connectivity: a 2x2 neighbourhood; shared weights: the same w at every (i, j)).
    rng = np.random.default_rng(6)
    x, w, b = rng.standard_normal((3, 4, 5)), rng.standard_normal((2, 3, 2, 2)), rng.standard_normal(2)
    y = F.conv2d(tl.tensor(x[None]), tl.tensor(w), tl.tensor(b)).numpy()[0]
    by_hand = np.empty((2, 3, 4))
    for o in range(2):
        for i in range(3):
            for j in range(4):
                by_hand[o, i, j] = b[o] + sum(x[c, i + u, j + v] * w[o, c, u, v]
                                              for c in range(3) for u in range(2) for v in range(2))
    np.testing.assert_allclose(y, by_hand, rtol=0, atol=1e-12)


def test_max_pooling_worked_example_and_where_its_gradient_goes():
    x = tl.tensor([[[[1., 3., 2., 1.],
                     [4., 6., 5., 0.],
                     [3., 1., 1., 0.],
                     [1., 2., 4., 3.]]]], requires_grad=True)
    y = F.max_pool2d(x, 2)
    np.testing.assert_array_equal(y.numpy()[0, 0], [[6., 5.], [3., 4.]])
    y.backward(tl.tensor([[[[10., 20.], [30., 40.]]]]))
    np.testing.assert_array_equal(x.grad.numpy()[0, 0], [[0., 0., 0., 0.],
                                                        [0., 10., 20., 0.],
                                                        [30., 0., 0., 0.],
                                                        [0., 0., 40., 0.]])


def test_fully_connected_layer_is_w_x_plus_b():
    tl.manual_seed(4)
    fc = nn.Linear(3, 2).double()
    x = np.array([[1.0, -2.0, 0.5]])
    W, b = fc.weight.numpy(), fc.bias.numpy()
    expected = [[sum(W[k, j] * x[0, j] for j in range(3)) + b[k] for k in range(2)]]
    np.testing.assert_allclose(fc(tl.tensor(x)).numpy(), expected, rtol=0, atol=1e-15)


@pytest.mark.parametrize("in_ch,stride", [(16, 1), (8, 1), (8, 2)])
def test_residual_bottleneck_is_relu_of_the_branch_plus_the_shortcut(in_ch, stride):
    # y = relu(F(x) + shortcut(x)), F = 1x1 reduce -> 3x3 -> 1x1 expand; the shortcut is the
    # identity when shapes agree, else a strided 1x1 projection.
    from models.resnet import Bottleneck
    tl.manual_seed(5)
    block = Bottleneck(in_ch, 4, stride=stride).double()
    for bn in (block.bn1, block.bn2, block.bn3):     # non-trivial normalisation statistics
        bn.running_mean.data[:] = np.random.default_rng(8).standard_normal(bn.num_features)
        bn.running_var.data[:] = 1 + np.random.default_rng(9).random(bn.num_features)
    block.eval()
    x = np.random.default_rng(7).standard_normal((2, in_ch, 6, 6))

    def conv(a, w, s=1, p=0):
        w = w.numpy()
        a = np.pad(a, ((0, 0), (0, 0), (p, p), (p, p)))
        k = w.shape[-1]
        ho = (a.shape[2] - k) // s + 1
        out = np.zeros((a.shape[0], w.shape[0], ho, ho))
        for i in range(ho):
            for j in range(ho):
                patch = a[:, :, i * s:i * s + k, j * s:j * s + k]
                out[:, :, i, j] = np.einsum("nchw,ochw->no", patch, w)
        return out

    def bn(a, m):
        scale = m.weight.numpy() / np.sqrt(m.running_var.numpy() + m.eps)
        return (a - m.running_mean.numpy()[:, None, None]) * scale[:, None, None] \
            + m.bias.numpy()[:, None, None]

    relu = lambda a: np.maximum(a, 0)  # noqa: E731
    branch = relu(bn(conv(x, block.conv1.weight), block.bn1))
    branch = relu(bn(conv(branch, block.conv2.weight, stride, 1), block.bn2))
    branch = bn(conv(branch, block.conv3.weight), block.bn3)
    if in_ch == 16 and stride == 1:
        assert len(list(block.shortcut.parameters())) == 0      # identity shortcut
        shortcut = x
    else:
        proj = [m for m in block.shortcut.modules() if isinstance(m, nn.Conv2d)]
        norms = [m for m in block.shortcut.modules() if isinstance(m, nn.BatchNorm2d)]
        assert [tuple(c.weight.shape[-2:]) for c in proj] == [(1, 1)]
        shortcut = conv(x, proj[0].weight, stride)
        if norms:
            shortcut = bn(shortcut, norms[0])
    np.testing.assert_allclose(block(tl.tensor(x)).numpy(), relu(branch + shortcut),
                               rtol=0, atol=1e-10)
