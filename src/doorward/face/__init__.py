"""Doorward face."""
