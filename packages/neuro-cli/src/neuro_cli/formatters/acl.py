"""Output of the ``neuro acl ...`` commands: plain columns, one entry a line, easy to grep."""

from collections.abc import Callable, Iterable

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text
from yarl import URL

import neuro_sdk


def _table(*columns: str) -> Table:
    table = Table(box=None, show_header=False, show_edge=False, pad_edge=False)
    for column in columns:
        table.add_column(column, no_wrap=True)
    return table


def format_permissions(
    permissions: Iterable[neuro_sdk.Permission], uri: Callable[[URL], str] = str
) -> RenderableType:
    """``neuro acl ls``: each URI with the action held on it."""
    table = _table("URI", "Action")
    for permission in permissions:
        table.add_row(uri(permission.uri), permission.action.value)
    return table


def format_shares(
    shares: Iterable[neuro_sdk.Share], uri: Callable[[URL], str] = str
) -> RenderableType:
    """``neuro acl ls --shared``: each URI with the action and who was given it."""
    table = _table("URI", "Action", "User")
    for share in shares:
        table.add_row(uri(share.permission.uri), share.permission.action.value, share.user)
    return table


def format_roles(roles: Iterable[str]) -> RenderableType:
    return Text("\n".join(roles))


def format_granted(user: str, permission: neuro_sdk.Permission) -> str:
    return f"Granted {permission.action.value} on {permission.uri} to {user}"


def format_revoked(user: str, uri: object) -> str:
    return f"Revoked every permission of {user} on {uri}"
