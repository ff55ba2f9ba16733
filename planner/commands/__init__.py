"""Subcommands of `mjplan`, one module each."""
