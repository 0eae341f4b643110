"""Thin Prefect flows and the kstance command: settings, calls into the core, persistence, artifacts."""
