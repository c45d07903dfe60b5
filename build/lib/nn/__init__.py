"""nn: the Module system, layers, losses, initialisers and functional forms.

    import nn
    import nn.functional as F
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    loss = F.cross_entropy(model(x), y)

Names, constructor arguments, parameter names and shapes follow PyTorch, so a PyTorch
state dict of the same architecture loads with ``load_state_dict``.
"""
import tensorlite  # noqa: F401  (first: it configures BLAS threads before numpy loads)

from . import functional, init, utils
from .layers import (ELU, GELU, AdaptiveAvgPool2d, AdaptiveMaxPool2d, AvgPool2d, BatchNorm1d,
                     BatchNorm2d, Conv2d, ConvTranspose2d, Dropout, Dropout1d, Dropout2d, Embedding, Flatten,
                     Identity, LayerNorm, LeakyReLU, Linear, LogSoftmax, MaxPool2d, ReLU, Sigmoid,
                     SiLU, Softmax, Softplus, Tanh)
from .layers import (AvgPool1d, Conv1d, Hardtanh, LogSigmoid, MaxPool1d, PReLU, ReLU6,
                     Unflatten)
from .loss import (BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, HuberLoss, KLDivLoss, L1Loss,
                   MSELoss, NLLLoss, SmoothL1Loss)
from .module import (Module, ModuleDict, ModuleList, Parameter, ParameterDict, ParameterList,
                     Sequential)

_RECURRENT = ("RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell", "RNNBase", "RNNCellBase")

__all__ = [
    "Module", "Parameter", "Sequential", "ModuleList", "ModuleDict", "ParameterList",
    "ParameterDict",
    "Identity", "Linear", "Flatten", "ReLU", "LeakyReLU", "ELU", "GELU", "SiLU", "Softplus",
    "Tanh", "Sigmoid", "Softmax", "LogSoftmax", "Dropout", "Dropout1d", "Dropout2d",
    "BatchNorm1d", "BatchNorm2d",
    "LayerNorm", "Conv2d", "ConvTranspose2d", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d",
    "AdaptiveMaxPool2d", "Embedding",
    "CrossEntropyLoss", "NLLLoss", "MSELoss", "BCEWithLogitsLoss", "BCELoss", "L1Loss",
    "SmoothL1Loss", "HuberLoss", "KLDivLoss", "Conv1d", "MaxPool1d", "AvgPool1d", "Unflatten",
    "Hardtanh", "ReLU6", "LogSigmoid", "PReLU",
    "functional", "init", "utils", *_RECURRENT,
]


def __getattr__(name: str):
    # The recurrent layers live in nn/rnn.py, loaded on first use.
    if name in _RECURRENT:
        from . import rnn
        return getattr(rnn, name)
    if name == "parallel":
        # Data parallelism loads on first use (it needs tensorlite.distributed).
        import importlib
        return importlib.import_module(".parallel", __name__)
    raise AttributeError(f"module 'nn' has no attribute {name!r}")
