"""The ``cirec`` command line: a thin layer over the library, one module per command."""

from cirec.cli.main import main

__all__ = ["main"]
