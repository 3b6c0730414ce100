"""Integration tests against real outside systems installed in their own environments."""
