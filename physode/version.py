"""The package version: one constant, importable without importing the rest of physode."""

__version__ = "0.1.0"
