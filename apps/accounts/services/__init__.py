"""Every state change of accounts and sessions; see the modules for the rules."""
from apps.accounts.services.recovery import password_reset_confirm, password_reset_request  # noqa: F401
from apps.accounts.services.sessions import (  # noqa: F401
    RevokeReason,
    TokenPair,
    get_tokens_for_user,
    refresh_is_usable,
    session_open,
    session_revoke,
    session_revoke_by_id,
    session_revoke_by_refresh,
    session_rotate,
    sessions_prune,
    sessions_revoke_for_user,
    user_logout_all,
)
from apps.accounts.services.users import (  # noqa: F401
    LOGIN_FAILURES,
    user_authenticate,
    user_change_password,
    user_create,
    user_login,
)
from apps.accounts.services.verification import (  # noqa: F401
    email_verification_resend,
    email_verification_send,
    email_verify,
)
