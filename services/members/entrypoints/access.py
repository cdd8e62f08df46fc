"""Who may call each operation of the members service (enforced for every route; held to by
the authorization-matrix test; see shared/http/access.py)."""

from shared.auth import Role
from shared.http.access import ANYONE, Access, roles

_HR = roles(Role.HR_INTEGRATION, Role.ADMIN)

ACCESS: dict[str, Access] = {
    "POST /v1/members": Access(_HR, "org"),
    "GET /v1/members": Access(ANYONE, "caller"),
    "POST /v1/members/imports": Access(_HR, "org"),
    "GET /v1/members/{member_id}": Access(ANYONE, "resource"),
    "PATCH /v1/members/{member_id}": Access(_HR, "resource"),
    "PUT /v1/members/{member_id}/spouse": Access(_HR, "resource"),
    "POST /v1/members/{member_id}/births": Access(_HR, "resource"),
    "PUT /v1/members/{member_id}/new-employment-form": Access(_HR, "resource"),
    "DELETE /v1/members/{member_id}/new-employment-form": Access(_HR, "resource"),
    "POST /v1/members/{member_id}/transfers": Access(_HR, "resource"),
    "POST /v1/members/{member_id}/end": Access(_HR, "resource"),
    "POST /v1/members/{member_id}/rejoin": Access(_HR, "resource"),
    "GET /v1/members/{member_id}/events": Access(ANYONE, "resource"),
    "GET /v1/orgs": Access(ANYONE, "caller"),
    "PUT /v1/orgs": Access(roles(Role.ADMIN), "org"),
    "GET /v1/hr/parked": Access(_HR, "caller"),
    "GET /v1/hr/conflicts": Access(_HR, "caller"),
    "POST /v1/hr/conflicts/{conflict_id}/resolve": Access(_HR, "caller"),
}
