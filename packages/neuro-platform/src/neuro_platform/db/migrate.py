"""Runs the alembic migrations shipped inside the package, on a live async engine."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


# Serializes the migrations of processes starting together on one PostgreSQL database
# (docs/scale-out.md): the second waits, then finds the schema at head. "neuro-mg" as bytes.
MIGRATION_LOCK_KEY = 0x6E6575726F2D6D67


async def upgrade_to_head(engine: AsyncEngine) -> None:
    await upgrade_to(engine, "head")


async def upgrade_to(engine: AsyncEngine, revision: str) -> None:
    """The schema as of `revision` ("head": the latest); tests of a migration stop before it."""
    async with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # Held until this transaction, which holds the migrations too, ends.
            await connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY}
            )
        await connection.run_sync(_upgrade, revision)


def _upgrade(connection: Connection, revision: str) -> None:
    config = alembic_config()
    # env.py picks the connection up from here instead of creating an engine of its own.
    config.attributes["connection"] = connection
    command.upgrade(config, revision)
