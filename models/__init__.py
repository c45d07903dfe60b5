"""Reference networks from the lecture, and the `python -m models` CLI."""
import os as _os

# The models CLI's BLAS tuning, before numpy loads (docs/architecture.md, "Process-wide
# settings"): OpenBLAS's workers sleep after 2^18 cycles instead of spinning ~0.1 s
# (LeNet-5 step 1.28x -> 1.10x, LSTM 1.59x -> 1.35x PyTorch). tensorlite itself sets
# nothing at import; a value the user set wins.
_os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "18")
import tensorlite  # noqa: E402,F401

from .lenet import LeNet5
from .resnet import BasicBlock, Bottleneck, ResNet
from .language import NeuralLM, RNNLM
from .text import BagOfEmbeddings, BiRNNClassifier

__all__ = ["LeNet5", "ResNet", "BasicBlock", "Bottleneck", "NeuralLM", "RNNLM",
           "BagOfEmbeddings", "BiRNNClassifier"]
