"""Permissions: who may do what on which resource URI."""

from .actions import Action as Action
from .repository import PermissionRepository as PermissionRepository
from .repository import RoleExistsError as RoleExistsError
from .rules import PermissionTree as PermissionTree
from .service import Permission as Permission
from .service import PermissionDeniedError as PermissionDeniedError
from .service import PermissionService as PermissionService
from .sharing import NothingToRevokeError as NothingToRevokeError
from .sharing import Share as Share
from .sharing import SharingService as SharingService
from .sharing import UnknownPrincipalError as UnknownPrincipalError
from .uris import ResourceUri as ResourceUri
from .uris import parse_uri as parse_uri
