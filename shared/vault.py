"""Keeps personal data (ID numbers, phones, income, health) out of sight: keyed hashes to find
duplicates, Fernet-encrypted copies for the roles that need the clear value. Encryption keys
rotate through MultiFernet: the first key encrypts, every listed key decrypts."""

from __future__ import annotations

import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from pydantic import SecretStr


class IdentityVault:
    def __init__(self, hash_key: str, encryption_keys: list[str]) -> None:
        self._hash_key = hash_key.encode()
        try:
            self._fernet = MultiFernet([Fernet(k.strip().encode()) for k in encryption_keys])
        except (ValueError, TypeError):
            raise ValueError(
                "encryption keys must be Fernet keys (32 url-safe base64 bytes), comma separated"
            ) from None

    @classmethod
    def from_secrets(cls, hash_key: SecretStr, encryption_keys: SecretStr) -> IdentityVault:
        return cls(hash_key.get_secret_value(), encryption_keys.get_secret_value().split(","))

    def fingerprint(self, id_number: str) -> str:
        return hmac.new(self._hash_key, id_number.encode(), hashlib.sha256).hexdigest()

    def seal(self, value: str) -> bytes:
        return self._fernet.encrypt(value.encode())

    def open(self, token: bytes) -> str:
        try:
            return self._fernet.decrypt(token).decode()
        except InvalidToken:
            raise ValueError("stored value cannot be decrypted with the configured keys") from None
