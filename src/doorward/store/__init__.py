"""Doorward store."""
