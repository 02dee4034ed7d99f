"""Runs the removal sweeper for the server's life; after the jobs and disks contexts."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from ..api.keys import SESSIONS, SETTINGS, USERS
from ..auth.account_changes import AccountChanges, account_changes_path
from ..background import running_in_background
from ..disks.keys import DISKS
from ..jobs.keys import JOBS
from .sweeper import RemovalSweeper


async def removals_context(app: web.Application) -> AsyncIterator[None]:
    sweeper = RemovalSweeper(
        app[SESSIONS],
        app[USERS],
        app[JOBS],
        app[DISKS],
        AccountChanges(account_changes_path(app[SETTINGS].data_dir)),
    )
    # Before serving: a removal made while the server was down must not leave the removed
    # account's jobs running (their tokens act as the name) for a new account of the name.
    await sweeper.sweep()
    async with running_in_background(sweeper.run(), "user-removals"):
        yield
