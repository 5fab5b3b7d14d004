"""Followup: follow up after every job interview."""

__version__ = "0.1.0"
