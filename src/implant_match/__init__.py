"""implant-match: match social enterprises proven elsewhere with the needs of a territory."""

__version__ = "0.1.0"

__all__ = ["__version__"]
