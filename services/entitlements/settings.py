from __future__ import annotations

from shared.settings import ServiceSettings


class EntitlementsSettings(ServiceSettings):
    service_name: str = "entitlements"
    # A request that arrives before a fact it needs (registration, birthday, birth) waits this
    # long for it, then is decided with what is known.
    pending_wait_s: float = 120.0
    pending_sweep_interval_s: float = 5.0
