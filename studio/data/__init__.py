"""Datasets held in memory as tensors. Sources live in one module each."""
from studio.data.dataset import DataError, Dataset

__all__ = ["DataError", "Dataset"]
