"""boneabm's version, in a module of its own that imports nothing, so any module can read it without importing
the package's facade (``boneabm/__init__.py`` reaches up to the API on first use)."""

__version__ = "0.1.0"  # keep equal to pyproject.toml's version (tests/test_layers.py checks)
