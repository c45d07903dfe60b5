"""Reference networks from the lecture, and the `python -m models` CLI."""
import tensorlite  # noqa: F401  (first: it configures BLAS threads before numpy loads)

from .lenet import LeNet5
from .resnet import BasicBlock, Bottleneck, ResNet
from .language import NeuralLM, RNNLM
from .text import BagOfEmbeddings, BiRNNClassifier

__all__ = ["LeNet5", "ResNet", "BasicBlock", "Bottleneck", "NeuralLM", "RNNLM",
           "BagOfEmbeddings", "BiRNNClassifier"]
