"""The members service's vault: the shared one, keyed from the members settings."""

from __future__ import annotations

from services.members.settings import MembersSettings
from shared.vault import IdentityVault


def vault_from_settings(settings: MembersSettings) -> IdentityVault:
    return IdentityVault.from_secrets(settings.id_hash_key, settings.id_encryption_keys)
