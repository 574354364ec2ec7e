"""Beam's utility modules: timestamps and windowed values."""
