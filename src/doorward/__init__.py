"""Doorward: self-hosted, private-by-construction access control."""

__version__ = "0.1.0"
