"""Encoding metrics (work in progress): registers nothing yet."""
