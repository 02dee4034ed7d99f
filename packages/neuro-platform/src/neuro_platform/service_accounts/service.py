"""Service accounts: a role below the owner (`<owner>/service-accounts/<name>`) plus one
token for it, handed out once at creation as a passed config (docs/protocol.md §2.5)."""

from __future__ import annotations

import base64
import json
import re
import secrets
import uuid
from datetime import UTC, datetime, timedelta

import jwt
from yarl import URL

from ..auth.tokens import TokenCodec
from ..permissions import PermissionRepository
from .entities import ServiceAccount
from .errors import ServiceAccountNotFoundError
from .repository import ServiceAccountRepository

NAME_PATTERN = re.compile(r"^[a-z](?:-?[a-z0-9])*$")
MAX_NAME_LENGTH = 63
# Automation runs for years; the token ends earlier when the account is deleted.
TOKEN_TTL = timedelta(days=5 * 365)


class ServiceAccountsService:
    def __init__(
        self,
        repository: ServiceAccountRepository,
        roles: PermissionRepository,
        codec: TokenCodec,
        clusters: tuple[str, ...],
        api_url: URL,
    ) -> None:
        self._repository = repository
        self._roles = roles
        self._codec = codec
        self._clusters = clusters
        self._api_url = api_url

    async def create(
        self, owner: str, name: str | None, default_cluster: str | None
    ) -> tuple[ServiceAccount, str]:
        if "/" in owner:
            raise ValueError("Only users can create service accounts")
        if name is not None and not (len(name) <= MAX_NAME_LENGTH and NAME_PATTERN.match(name)):
            raise ValueError(
                f"Invalid service account name {name!r}: up to {MAX_NAME_LENGTH} lowercase "
                "letters, digits and inner dashes, starting with a letter"
            )
        cluster = default_cluster or self._clusters[0]
        if cluster not in self._clusters:
            raise ValueError(f"Cluster {cluster!r} not found")
        account = ServiceAccount(
            id=str(uuid.uuid4()),
            owner=owner,
            name=name,
            role=f"{owner}/service-accounts/{name or secrets.token_hex(8)}",
            default_cluster=cluster,
            created_at=datetime.now(UTC),
        )
        issued = self._codec.issue(account.role, TOKEN_TTL)
        token_id = jwt.decode(issued.token, options={"verify_signature": False})["jti"]
        await self._repository.insert(account, token_id)
        # A role of its own, so the owner can share resources with the account.
        await self._roles.add_role(account.role, created_by=owner)
        passed_config = {"token": issued.token, "cluster": cluster, "url": str(self._api_url)}
        return account, base64.b64encode(json.dumps(passed_config).encode()).decode()

    async def list(self, owner: str) -> list[tuple[ServiceAccount, bool]]:
        return [(a, await self._role_deleted(a)) for a in await self._repository.of_owner(owner)]

    async def get(self, owner: str, id_or_name: str) -> tuple[ServiceAccount, bool]:
        account = await self._find(owner, id_or_name)
        return account, await self._role_deleted(account)

    async def remove(self, owner: str, id_or_name: str) -> None:
        """Deleting the row revokes the token at once (see `RoleTokens`)."""
        account = await self._find(owner, id_or_name)
        await self._repository.delete(account.id)
        await self._roles.remove_role(account.role)

    async def _find(self, owner: str, id_or_name: str) -> ServiceAccount:
        account = await self._repository.find(owner, id_or_name)
        if account is None:
            raise ServiceAccountNotFoundError(f"Service account {id_or_name!r} not found")
        return account

    async def _role_deleted(self, account: ServiceAccount) -> bool:
        return not await self._roles.is_role(account.role)
