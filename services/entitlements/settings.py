from __future__ import annotations

from shared.settings import ServiceSettings


class EntitlementsSettings(ServiceSettings):
    service_name: str = "entitlements"
