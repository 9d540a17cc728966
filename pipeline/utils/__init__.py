"""Shared utilities: every stage may import from here (and only from here, plus earlier stages)."""
