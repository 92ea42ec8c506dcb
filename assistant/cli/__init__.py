"""The ``assistant`` command line (entry point ``assistant.cli:main``)."""

from assistant.cli.commands import cli, main

__all__ = ["cli", "main"]
