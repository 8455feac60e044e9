"""The admin commands' grammar (no platform syntax, no I/O)."""
