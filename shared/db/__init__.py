"""Engines, sessions, per-service databases and migrations."""

from shared.db.engine import create_engine, create_sessions, ensure_database

__all__ = ["create_engine", "create_sessions", "ensure_database"]
