from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr

from shared.settings import ServiceSettings, dev_secret

REFERENCE = Path(__file__).parent / "reference"
DEV_ID_HASH_KEY = dev_secret("jinhui-dev-id-hash-key-not-for-production-0000")
# A Fernet key (32 bytes, url-safe base64) for development only.
DEV_ID_ENCRYPTION_KEY = dev_secret("amluaHVpLWRldi1lbmNyeXB0aW9uLWtleS0wMDAwMDA=")


class MembersSettings(ServiceSettings):
    service_name: str = "members"
    # Keyed hash of ID numbers, for duplicate detection without keeping them in clear.
    # Changing it means re-hashing every stored number (see docs/operations.md).
    id_hash_key: SecretStr = SecretStr(DEV_ID_HASH_KEY)
    # Fernet keys, comma separated, newest first: the first encrypts, all decrypt (rotation).
    id_encryption_keys: SecretStr = SecretStr(DEV_ID_ENCRYPTION_KEY)
    org_tree_file: Path = REFERENCE / "org-tree.yaml"
    birthday_scan_interval_s: float = 60.0
    # An HR event waiting this long for its employee's hire goes to the conflict list.
    hr_parked_expire_after_s: float = 7 * 86_400.0
    hr_parked_check_interval_s: float = 3_600.0

    def secrets(self) -> dict[str, str]:
        keys = self.id_encryption_keys.get_secret_value().split(",")
        return {
            **super().secrets(),
            "id_hash_key": self.id_hash_key.get_secret_value(),
            **{f"id_encryption_keys[{i}]": k.strip() for i, k in enumerate(keys)},
        }
