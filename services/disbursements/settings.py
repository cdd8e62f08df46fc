from __future__ import annotations

from shared.settings import ServiceSettings


class DisbursementsSettings(ServiceSettings):
    service_name: str = "disbursements"
