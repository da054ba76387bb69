"""Doorward edge."""
