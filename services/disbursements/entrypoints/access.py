"""Who may call each operation of the disbursements service (enforced for every route; held
to by the authorization-matrix test; see shared/http/access.py)."""

from shared.auth import Role
from shared.http.access import Access, roles

_WRITERS = roles(Role.FINANCE_OFFICER, Role.ADMIN)
# Payments are read by finance, its auditors, and the hardship desk for the relief it grants.
_READERS = roles(Role.FINANCE_OFFICER, Role.ADMIN, Role.AUDITOR, Role.CASEWORKER, Role.REVIEWER)

# Payroll's answers are finance's to read: who was paid, whose payment failed and why.
_FINANCE = roles(Role.FINANCE_OFFICER, Role.ADMIN, Role.AUDITOR)

ACCESS: dict[str, Access] = {
    "POST /v1/disbursements": Access(_WRITERS, "caller"),
    "GET /v1/disbursements/{disbursement_id}": Access(_READERS, "resource"),
    "POST /v1/disbursements/{disbursement_id}/issue": Access(_WRITERS, "resource"),
    "POST /v1/disbursements/{disbursement_id}/cancel": Access(_WRITERS, "resource"),
    "POST /v1/disbursements/{disbursement_id}/reverse": Access(_WRITERS, "resource"),
    "POST /v1/disbursements/{disbursement_id}/reissue": Access(_WRITERS, "resource"),
    "POST /v1/disbursements/{disbursement_id}/redeem": Access(_WRITERS, "resource"),
    "POST /v1/disbursement-batches": Access(_WRITERS, "org"),
    "GET /v1/disbursement-batches/{batch_id}": Access(_READERS, "resource"),
    "GET /v1/disbursement-batches/{batch_id}/lines.csv": Access(_READERS, "resource"),
    "GET /v1/disbursement-batches/{batch_id}/lines.xlsx": Access(_READERS, "resource"),
    "GET /v1/finance/spending": Access(_READERS, "caller"),
    "GET /v1/finance/uptake": Access(_READERS, "caller"),
    "GET /v1/finance/reconciliation": Access(_FINANCE, "caller"),
    "GET /v1/finance/payroll/unanswered": Access(_FINANCE, "caller"),
    "PUT /v1/recuperation-plans/{org}/{year}": Access(_WRITERS, "org"),
    "GET /v1/recuperation-plans/{org}/{year}": Access(_READERS, "org"),
}
