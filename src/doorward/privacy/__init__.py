"""Doorward privacy."""
