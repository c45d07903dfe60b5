"""Data: datasets and loaders, image augmentation, the text pipeline, real-data loaders.

    from tensorlite.data import DataLoader, TensorDataset, transforms, datasets
"""
from . import datasets, text, transforms
from .dataset import (BatchSampler, ConcatDataset, DataLoader, Dataset, RandomSampler, Sampler,
                      SequentialSampler, Subset, SubsetRandomSampler, TensorDataset,
                      WeightedRandomSampler,
                      default_collate, random_split)
from .datasets import DataNotFound
from .distributed import DistributedSampler
from .text import Vocabulary, lemmatize, normalize, one_hot, tokenize

__all__ = ["Dataset", "TensorDataset", "Subset", "ConcatDataset", "random_split", "DataLoader",
           "default_collate", "Vocabulary", "tokenize", "normalize", "lemmatize", "one_hot",
           "DataNotFound", "datasets", "transforms", "text", "Sampler", "SequentialSampler",
           "RandomSampler", "SubsetRandomSampler", "WeightedRandomSampler", "BatchSampler",
           "DistributedSampler"]
