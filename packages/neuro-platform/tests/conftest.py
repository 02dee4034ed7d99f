"""Shared fixtures: a real server subprocess, and databases on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from neuro_platform.db.engine import create_engine, create_session_factory
from neuro_platform.db.migrate import upgrade_to_head
from neuro_platform.testing.fixtures import (  # noqa: F401 (fixtures)
    platform_server,
    shared_platform_server,
)

POSTGRES_URL_ENV = "NEURO_TEST_POSTGRES_URL"
# PostgreSQL joins the parameters only where a server is provided (make test always does).
DATABASE_BACKENDS = [pytest.param("sqlite")] + (
    [pytest.param("postgres", marks=pytest.mark.postgres)]
    if os.environ.get(POSTGRES_URL_ENV)
    else []
)


@pytest.fixture(params=DATABASE_BACKENDS)
async def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[str]:
    """A fresh, empty database: a new SQLite file, or a new PostgreSQL database per test."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'platform.db'}"
        return
    server_url = make_url(os.environ[POSTGRES_URL_ENV])
    name = f"neuro_test_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as connection:
            await connection.execute(text(f'CREATE DATABASE "{name}"'))
        yield server_url.set(database=name).render_as_string(hide_password=False)
        async with admin.connect() as connection:
            await connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    finally:
        await admin.dispose()


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(database_url)
    try:
        await upgrade_to_head(engine)
        yield create_session_factory(engine)
    finally:
        await engine.dispose()
