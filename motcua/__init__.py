"""Một Cửa QMS: the pieces every role shares (contract, catalogs, clock, CLI)."""

__version__ = "0.1.0"
