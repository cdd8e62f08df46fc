"""Traces, metrics and structured logs, configured once per process."""

from shared.telemetry.setup import configure_logging, configure_tracing, instrument_engine

__all__ = ["configure_logging", "configure_tracing", "instrument_engine"]
