"""The `figures` fixture and the table's hooks live in figures.py (loaded by tests/conftest.py)."""

from __future__ import annotations

from .figures import Figure, Figures

__all__ = ["Figure", "Figures"]
