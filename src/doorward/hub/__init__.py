"""Doorward hub."""
