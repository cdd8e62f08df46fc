from __future__ import annotations

from pydantic import SecretStr

from shared.settings import ServiceSettings, dev_secret

DEV_HASH_KEY = dev_secret("jinhui-dev-hardship-hash-key-not-for-production-00")
DEV_ENCRYPTION_KEY = dev_secret("amluaHVpLWRldi1oYXJkc2hpcC1lbmNyeXB0aW9uLTA=")


class HardshipSettings(ServiceSettings):
    service_name: str = "hardship"
    # Household files hold income, health and ID numbers: encrypted at rest with these keys
    # (Fernet, comma separated, newest first), ID numbers found by a keyed hash.
    hardship_hash_key: SecretStr = SecretStr(DEV_HASH_KEY)
    hardship_encryption_keys: SecretStr = SecretStr(DEV_ENCRYPTION_KEY)
    emergency_sweep_interval_s: float = 3600.0

    def secrets(self) -> dict[str, str]:
        keys = self.hardship_encryption_keys.get_secret_value().split(",")
        return {
            **super().secrets(),
            "hardship_hash_key": self.hardship_hash_key.get_secret_value(),
            **{f"hardship_encryption_keys[{i}]": k.strip() for i, k in enumerate(keys)},
        }
