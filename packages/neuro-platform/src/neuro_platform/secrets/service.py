"""Secret rules: who may add, list, remove and read (for jobs) which secret.

Values are encrypted before they reach the repository and are decrypted only for a job's
container; no API answer and no log line ever holds one.
"""

from __future__ import annotations

import re

from ..errors import NotFoundError
from ..permissions import Permission, PermissionService
from ..permissions.actions import Action
from ..permissions.uris import owned_uri, parse_uri
from .cipher import SecretCipher
from .entities import SecretRef
from .repository import SecretRepository

KEY_PATTERN = re.compile(r"^(?!\.$|\.\.)[a-zA-Z0-9_\-.]+$")
MAX_KEY_LENGTH = 253
MAX_VALUE_BYTES = 1024 * 1024


class SecretNotFoundError(NotFoundError):
    pass


def validate_key(key: str) -> None:
    if len(key) > MAX_KEY_LENGTH or not KEY_PATTERN.match(key):
        raise ValueError(
            f"Invalid secret key {key!r}: use up to {MAX_KEY_LENGTH} letters, digits, "
            "'_', '-' and '.', not starting with '..'"
        )


class SecretsService:
    def __init__(
        self, repository: SecretRepository, cipher: SecretCipher, permissions: PermissionService
    ) -> None:
        self._repository = repository
        self._cipher = cipher
        self._permissions = permissions

    async def add(self, user: str, ref: SecretRef, value: bytes) -> None:
        validate_key(ref.key)
        if len(value) > MAX_VALUE_BYTES:
            raise ValueError(f"A secret value may hold at most {MAX_VALUE_BYTES} bytes")
        await self._permissions.require(user, [Permission.of(_folder(ref), Action.WRITE)])
        await self._repository.put(ref, self._cipher.encrypt(value))

    async def remove(self, user: str, ref: SecretRef) -> None:
        await self._permissions.require(user, [Permission.of(ref.uri, Action.WRITE)])
        if not await self._repository.delete(ref):
            raise SecretNotFoundError(f"Secret {ref.key!r} not found")

    async def readable(self, user: str, cluster_name: str) -> list[SecretRef]:
        """Every secret of the cluster the user may read: their own and shared ones."""
        grants = await self._permissions.grant_set(user, {"secret"})
        return [
            ref
            for ref in await self._repository.in_cluster(cluster_name)
            if grants.allows(parse_uri(ref.uri), Action.READ)
        ]

    async def require_readable(self, user: str, uris: list[str]) -> None:
        """For job submission: read on each secret (403 otherwise), and each must exist."""
        await self._permissions.require(user, [Permission.of(u, Action.READ) for u in uris])
        for uri in uris:
            if await self._repository.ciphertext(ref_from_uri(uri)) is None:
                raise SecretNotFoundError(f"Secret {uri} not found")

    async def value(self, uri: str) -> bytes:
        """The plain value, for a container being started (permission was checked at
        submission; a secret removed since then makes the start fail)."""
        ciphertext = await self._repository.ciphertext(ref_from_uri(uri))
        if ciphertext is None:
            raise SecretNotFoundError(f"Secret {uri} not found")
        return self._cipher.decrypt(ciphertext)


def ref_from_uri(uri: str) -> SecretRef:
    """`secret://<cluster>/[<org>/]<owner>/<key>`; owners may be service accounts
    (`alice/service-accounts/x`), so an org is told apart by the segment count only
    when the owner is a plain user."""
    parsed = parse_uri(uri)
    if parsed.scheme != "secret" or len(parsed.parts) < 3:
        raise ValueError(f"Invalid secret URI {uri!r}")
    cluster, *middle, key = parsed.parts
    validate_key(key)
    if len(middle) == 1:
        return SecretRef(cluster, None, middle[0], key)
    if len(middle) == 2:
        return SecretRef(cluster, middle[0], middle[1], key)
    # `<owner>/service-accounts/<name>` with or without an org in front
    if len(middle) == 3:
        return SecretRef(cluster, None, "/".join(middle), key)
    return SecretRef(cluster, middle[0], "/".join(middle[1:]), key)


def _folder(ref: SecretRef) -> str:
    return str(owned_uri("secret", ref.cluster_name, ref.owner, ref.org_name))
