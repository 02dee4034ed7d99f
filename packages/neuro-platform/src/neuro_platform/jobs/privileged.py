"""Who may run a privileged container: the one rule, asked at submission.

A privileged container is root on the host, so it takes two decisions: the operator allows
privileged jobs on the cluster (`[[clusters]] allow_privileged = true`) and grants them to
the user (`neuro-platform admin user grant privileged <user>`).

The grant is `write` on `cluster://<cluster>/privileged` in the permission tables, not a
users-table column: it is per cluster, the permission cache already makes a revoke count
within its TTL, the removal of a user drops it with the user's other grants, and no
migration is needed. Users cannot give it to each other: sharing needs `manage`, which
nobody holds on `cluster:` URIs unless an administrator grants it.
"""

from __future__ import annotations

from ..permissions import Permission, PermissionService
from ..permissions.actions import Action
from ..settings import Settings


class PrivilegedNotAllowedError(ValueError):
    """The job asks for a privileged container the caller may not have (400, with why)."""


def privileged_uri(cluster_name: str) -> str:
    return f"cluster://{cluster_name}/privileged"


PRIVILEGED_ACTION = Action.WRITE


async def require_privileged(
    permissions: PermissionService, settings: Settings, user: str, cluster_name: str
) -> None:
    cluster = settings.cluster(cluster_name)
    if cluster is None or not cluster.allow_privileged:
        raise PrivilegedNotAllowedError(
            f"Privileged jobs are not allowed on cluster {cluster_name!r}"
        )
    permission = Permission.of(privileged_uri(cluster_name), PRIVILEGED_ACTION)
    if await permissions.check(user, [permission]):
        raise PrivilegedNotAllowedError(
            f"User {user!r} may not run privileged jobs on cluster {cluster_name!r}: "
            "an administrator must grant it"
        )
