"""Datasets held in memory as tensors. Sources live in one module each."""
from .dataset import DataError, Dataset

__all__ = ["DataError", "Dataset"]
