"""hunter-console: a terminal release console for the Hunter API."""

__version__ = "0.1.0"
