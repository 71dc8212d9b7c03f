"""``cnnlib.models_store.load_model``, as the README documents it; saved models live in ``cnnlib/store/saved.py``."""

from cnnlib.store.saved import list_models, load_model

__all__ = ["list_models", "load_model"]
