"""Encryption of secret values at rest with a per-installation key kept in the data dir."""

from __future__ import annotations

import base64
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from ..auth.tokens import load_or_create_signing_key


class SecretCipher:
    """Fernet (AES-128-CBC + HMAC-SHA256): a stolen database without the key file yields
    nothing, and a tampered ciphertext is refused rather than decrypted to garbage."""

    def __init__(self, key_path: Path) -> None:
        # 32 random bytes, created once with mode 0600 (the same routine as the JWT key).
        raw = load_or_create_signing_key(key_path)
        self._fernet = Fernet(base64.urlsafe_b64encode(raw))

    def encrypt(self, value: bytes) -> bytes:
        return self._fernet.encrypt(value)

    def decrypt(self, ciphertext: bytes) -> bytes:
        try:
            return self._fernet.decrypt(ciphertext)
        except InvalidToken as e:
            raise RuntimeError("a secret could not be decrypted with this server's key") from e
