"""Reference networks from the lecture, and the `python -m models` CLI."""
from .lenet import LeNet5
from .resnet import BasicBlock, Bottleneck, ResNet
from .language import NeuralLM, RNNLM
from .text import BagOfEmbeddings, BiRNNClassifier

__all__ = ["LeNet5", "ResNet", "BasicBlock", "Bottleneck", "NeuralLM", "RNNLM",
           "BagOfEmbeddings", "BiRNNClassifier"]
