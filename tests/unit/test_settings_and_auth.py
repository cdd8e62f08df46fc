from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError

from shared.auth import Principal, Role, decode_token, issue_token, org_contains, parse_org
from shared.errors import Forbidden, InvalidInput, Unauthenticated
from shared.settings import ServiceSettings

PROVIDER = "https://sso.example.org/realms/jinhui/protocol/openid-connect/certs"


def test_production_trusts_only_an_identity_provider() -> None:
    """Outside dev and test there is no local issuer: the provider's https JWKS is required."""
    with pytest.raises(ValidationError, match="JWT_JWKS_URL"):
        ServiceSettings(environment="prod")
    with pytest.raises(ValidationError, match="JWT_JWKS_URL"):
        ServiceSettings(environment="staging", jwt_jwks_url="file:///tmp/jwks.json")
    assert ServiceSettings(environment="prod", jwt_jwks_url=PROVIDER).environment == "prod"
    assert ServiceSettings(environment="dev").environment == "dev"
    with pytest.raises(RuntimeError, match="identity provider"):
        issue_token(
            ServiceSettings(environment="prod", jwt_jwks_url=PROVIDER),
            subject="u",
            roles=[Role.ADMIN],
            org="shanxi",
        )


def test_database_url_accepts_libpq_spelling() -> None:
    settings = ServiceSettings(database_url="postgresql://u:p@db:5432/jinhui_members")
    assert settings.async_database_url == "postgresql+asyncpg://u:p@db:5432/jinhui_members"


def test_org_paths_and_subtrees() -> None:
    assert parse_org(" /Shanxi/TaiYuan/ ") == "shanxi/taiyuan"
    assert org_contains("shanxi/taiyuan", "shanxi/taiyuan/xiaodian/bu-1")
    assert not org_contains("shanxi/taiyuan", "shanxi/taiyuanxi/bu-1")
    with pytest.raises(InvalidInput):
        parse_org("a/b/c/d/e")
    with pytest.raises(InvalidInput):
        parse_org("shanxi/太原")


async def test_token_round_trip_and_scope() -> None:
    settings = ServiceSettings(environment="test")
    token = issue_token(settings, subject="u1", roles=[Role.CASEWORKER], org="shanxi/datong")
    principal = await decode_token(settings, token)
    assert principal == Principal("u1", frozenset({Role.CASEWORKER}), "shanxi/datong")
    principal.require_org("shanxi/datong/bu-9")
    with pytest.raises(Forbidden):
        principal.require_org("shanxi/taiyuan")
    with pytest.raises(Forbidden):
        principal.require(Role.ADMIN)


async def test_expired_or_foreign_tokens_are_refused() -> None:
    settings = ServiceSettings(environment="test")
    expired = issue_token(
        settings, subject="u", roles=[Role.ADMIN], org="shanxi", ttl=timedelta(minutes=-2)
    )
    with pytest.raises(Unauthenticated):
        await decode_token(settings, expired)
    other = ServiceSettings(environment="test", jwt_audience="another-system")
    with pytest.raises(Unauthenticated):
        await decode_token(
            settings, issue_token(other, subject="u", roles=[Role.ADMIN], org="shanxi")
        )


def test_kafka_connection_security_follows_the_settings() -> None:
    from pydantic import SecretStr

    from shared.kafka.producer import security

    assert security(ServiceSettings(environment="test")) == {}
    secured = security(
        ServiceSettings(
            environment="test",
            kafka_security_protocol="SASL_PLAINTEXT",
            kafka_sasl_username="jinhui-members",
            kafka_sasl_password=SecretStr("s3cret-from-the-kafkauser-secret"),
        )
    )
    assert secured == {
        "security_protocol": "SASL_PLAINTEXT",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "jinhui-members",
        "sasl_plain_password": "s3cret-from-the-kafkauser-secret",
    }
