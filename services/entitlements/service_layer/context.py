"""What every entitlements handler is given: the policy registry and the clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from services.entitlements.service_layer.policies import PolicyRegistry
from shared.clock import Clock


@dataclass(frozen=True)
class EntitlementsContext:
    policies: PolicyRegistry
    clock: Clock
    # How long a request may wait for a fact about its member that has not arrived yet.
    pending_wait: timedelta = timedelta(minutes=2)
