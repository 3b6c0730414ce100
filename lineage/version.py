"""The installed Silverline version, in a module of its own so reading it imports nothing."""

from __future__ import annotations

__all__ = ["__version__"]

__version__ = "0.1.0"
