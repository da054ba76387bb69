"""Doorward domain."""
