"""Who may call each operation of the entitlements service (enforced for every route; held to
by the authorization-matrix test; see shared/http/access.py)."""

from shared.auth import Role
from shared.http.access import ANYONE, Access, roles

_FINANCE = roles(Role.FINANCE_OFFICER, Role.ADMIN)
# A member's benefits, and who may be offered what, are for those who pay, audit or help.
_READERS = roles(Role.FINANCE_OFFICER, Role.ADMIN, Role.AUDITOR, Role.CASEWORKER, Role.REVIEWER)

ACCESS: dict[str, Access] = {
    "GET /v1/members/{member_id}/ledgers/{year}": Access(_READERS, "resource"),
    "GET /v1/members/{member_id}/ledgers/{year}/entries": Access(_READERS, "resource"),
    "POST /v1/checks": Access(_READERS, "caller"),
    "POST /v1/members/{member_id}/children/{child_id}/spacing-review": Access(
        roles(Role.REVIEWER, Role.ADMIN), "resource"
    ),
    "GET /v1/policies": Access(ANYONE, "caller"),
    "POST /v1/policies": Access(roles(Role.ADMIN), "province"),
    "GET /v1/policies/{version}": Access(ANYONE, "caller"),
    "POST /v1/policies/what-if": Access(roles(Role.ADMIN), "province"),
    "PUT /v1/unions/{org}/standards/{benefit}": Access(_FINANCE, "org"),
    "POST /v1/unions/{org}/standards/{benefit}/corrections": Access(_FINANCE, "org"),
    "GET /v1/unions/{org}/standards": Access(ANYONE, "caller"),
    "PUT /v1/unions/{org}/finances/{year}": Access(_FINANCE, "org"),
    "GET /v1/unions/{org}/ledgers/{year}": Access(
        roles(Role.FINANCE_OFFICER, Role.ADMIN, Role.AUDITOR), "org"
    ),
    "POST /v1/unions/{org}/consumption-assistance": Access(_FINANCE, "org"),
    "GET /v1/eligibility/summer-camp": Access(_READERS, "caller"),
    "GET /v1/eligibility/nef-insurance": Access(_READERS, "caller"),
    "GET /v1/eligibility/recuperation": Access(_READERS, "caller"),
    "POST /v1/forecasts/batches": Access(_FINANCE, "org"),
}
