"""Typed application keys: how handlers reach settings and services."""

from __future__ import annotations

from aiohttp import web

from ..auth.grants import GrantService
from ..auth.identity import Authenticator
from ..auth.login_throttle import LoginThrottle
from ..auth.users import UserService
from ..permissions import PermissionService, SharingService
from ..settings import Settings

SETTINGS = web.AppKey("settings", Settings)
USERS = web.AppKey("users", UserService)
GRANTS = web.AppKey("grants", GrantService)
LOGIN_THROTTLE = web.AppKey("login_throttle", LoginThrottle)
AUTHENTICATOR = web.AppKey("authenticator", Authenticator)
PERMISSIONS = web.AppKey("permissions", PermissionService)
SHARING = web.AppKey("sharing", SharingService)
