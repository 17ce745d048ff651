"""Accord from Python: `AccordClient` (and `AsyncAccordClient`) for `accord serve`, `obligations.apply` for
what a permitted value may be used as, and `accord.feast.GuardedFeatureStore` in front of a Feast store."""

from . import obligations
from .client import AccordClient, AsyncAccordClient
from .errors import AccordError, AccordUnavailable

__all__ = ["AccordClient", "AsyncAccordClient", "AccordError", "AccordUnavailable", "obligations"]
__version__ = "0.1.0"
