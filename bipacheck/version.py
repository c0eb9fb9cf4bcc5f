"""The package version (a leaf: caches and reports pin it without importing the package's facade)."""

__version__ = "0.1.0"
