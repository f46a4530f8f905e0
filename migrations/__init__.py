"""Alembic migrations of the evidence schema (run through `evidence.schema`)."""
