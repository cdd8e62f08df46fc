from __future__ import annotations

from shared.settings import ServiceSettings


class HardshipSettings(ServiceSettings):
    service_name: str = "hardship"
