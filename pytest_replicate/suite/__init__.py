"""Eval-file configuration: loading, validation and expansion into cases."""
