"""Doorward sim."""
