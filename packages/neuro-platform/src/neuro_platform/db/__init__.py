"""Database access: ORM models, the engine factory and alembic migrations."""
