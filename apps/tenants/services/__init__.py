"""Every state change of tenants, their members and invitations; see the modules for the rules.

Dependencies run one way: tenants' services call accounts' (user_create, the session service),
never the reverse; the import contracts (.importlinter) keep it so. Sign-up, which may create
a tenant, is therefore here (registration.py).
"""
from apps.tenants.services.invitations import (  # noqa: F401
    invitation_accept_existing_account,
    invitation_accept_new_account,
    invitation_create,
    invitation_revoke,
)
from apps.tenants.services.members import (  # noqa: F401
    member_create,
    member_detach,
    member_remove,
    member_role_change,
)
from apps.tenants.services.registration import user_register  # noqa: F401
from apps.tenants.services.tenants import (  # noqa: F401
    tenant_create,
    tenant_delete,
    tenant_set_active,
    tenant_update,
)
