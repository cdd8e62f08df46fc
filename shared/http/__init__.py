"""What every service's HTTP side shares: problem+json, health, metrics, instrumentation."""

from shared.http.app import create_service_app

__all__ = ["create_service_app"]
