"""Persistence: SQLAlchemy 2 models and the repository functions the flows call."""
