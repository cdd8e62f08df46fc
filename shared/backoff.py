"""Capped exponential back-off with jitter, for broker and database outages."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass
class Backoff:
    initial_s: float = 0.1
    maximum_s: float = 5.0
    attempt: int = 0

    def next_delay(self) -> float:
        delay = min(self.maximum_s, self.initial_s * (2**self.attempt))
        self.attempt += 1
        return delay * random.uniform(0.5, 1.0)

    def reset(self) -> None:
        self.attempt = 0
