"""The construct's version: the project's single version (pyproject.toml at the repository root;
tests/unit/test_release.py keeps them equal). It is also the default provider version."""

__version__ = "0.2.0"
