"""Persistence: engine, sessions, models and keyword-only repositories."""
