"""Who may call each operation of the hardship service (enforced for every route; held to by
the authorization-matrix test; see shared/http/access.py)."""

from shared.auth import Role
from shared.http.access import Access, roles

_CASEWORK = roles(Role.CASEWORKER)
_READERS = roles(Role.CASEWORKER, Role.REVIEWER, Role.AUDITOR, Role.ADMIN)
# Who may read a case in the clear (`?view=clear`: ID numbers, names and incomes in full). The
# read route applies it itself, inside the audited read, so that a refused clear read is in the
# case's audit trail as `read-denied`; refused here, before the route, it would leave no trace.
CLEAR_VIEW = roles(Role.CASEWORKER, Role.REVIEWER)
_STEPS = ("assess", "register", "start-review", "complete-review", "exit", "close", "re-enter",
          "convert")  # fmt: skip

ACCESS: dict[str, Access] = {
    "POST /v1/hardship/cases": Access(_CASEWORK, "org"),
    "GET /v1/hardship/cases": Access(_READERS, "caller"),
    "GET /v1/hardship/cases/{case_id}": Access(_READERS, "resource"),
    **{
        f"POST /v1/hardship/cases/{{case_id}}/{step}": Access(_CASEWORK, "resource")
        for step in _STEPS
    },
    "POST /v1/hardship/emergencies": Access(_CASEWORK, "org"),
    "POST /v1/hardship/cases/{case_id}/reliefs": Access(_CASEWORK, "resource"),
    "POST /v1/hardship/cases/{case_id}/reliefs/{relief_id}/approve": Access(
        roles(Role.REVIEWER), "resource"
    ),
    "GET /v1/hardship/relief-purposes": Access(_READERS, "caller"),
    "GET /v1/hardship/export.csv": Access(_READERS, "caller"),
    "GET /v1/hardship/cases/{case_id}/audit": Access(roles(Role.AUDITOR, Role.ADMIN), "resource"),
    "GET /v1/hardship/duplicates": Access(roles(Role.REVIEWER, Role.ADMIN), "province"),
    "GET /v1/hardship/watch-list": Access(_READERS, "caller"),
    "POST /v1/hardship/watch-list/{entry_id}/clear": Access(_CASEWORK, "caller"),
}
