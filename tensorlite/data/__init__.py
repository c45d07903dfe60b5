"""Data: datasets and loaders, image augmentation, the text pipeline, real-data loaders."""
from . import datasets, text, transforms
from .dataset import DataLoader, Dataset, TensorDataset, default_collate
from .text import Vocabulary, lemmatize, normalize, one_hot, tokenize

__all__ = ["Dataset", "TensorDataset", "DataLoader", "default_collate", "Vocabulary",
           "tokenize", "normalize", "lemmatize", "one_hot", "datasets", "transforms", "text"]
