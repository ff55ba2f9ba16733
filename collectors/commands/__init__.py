"""Subcommands of `mjcollect`, one module each."""
