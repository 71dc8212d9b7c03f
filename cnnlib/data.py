"""``cnnlib.data.load_mnist``, as the README documents it; the code lives in ``cnnlib/mnist/data.py``."""

from cnnlib.mnist.data import SOURCES, MnistData, load_mnist

__all__ = ["SOURCES", "MnistData", "load_mnist"]
