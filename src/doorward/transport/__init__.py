"""Doorward transport."""
