"""The error vocabulary: every error a client can see, with its code, status and message.

Services raise these; `exception_handler.py` renders each as {"detail": ..., "code": ...}.
"""
from __future__ import annotations

from rest_framework import status
from rest_framework.exceptions import APIException, ValidationError


class ApiError(APIException):
    """Base for our errors: `default_code` is the machine code clients key on."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = "Bad request."
    default_code = "bad_request"


class InvalidCredentials(ApiError):
    status_code = status.HTTP_401_UNAUTHORIZED
    default_detail = "No active account found with the given credentials."
    default_code = "invalid_credentials"


class AccountInactive(ApiError):
    status_code = status.HTTP_403_FORBIDDEN
    default_detail = "This account is inactive."
    default_code = "account_inactive"


class TenantInactive(ApiError):
    status_code = status.HTTP_403_FORBIDDEN
    default_detail = "This account's organisation is inactive."
    default_code = "tenant_inactive"


class EmailNotVerified(ApiError):
    """EMAIL_VERIFICATION=mandatory: only ever raised after a correct password."""

    status_code = status.HTTP_403_FORBIDDEN
    default_detail = "Verify your email address first: we have sent you a link."
    default_code = "email_not_verified"


class InvalidOneTimeToken(ApiError):
    """A used, expired, tampered or unknown one-time token (reset, verification, invitation)."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = "This link is invalid or has expired."
    default_code = "invalid_token"


class TokenNotValid(ApiError):
    """Bad, expired, revoked or malformed token (same code simplejwt uses)."""

    status_code = status.HTTP_401_UNAUTHORIZED
    default_detail = "Token is invalid or expired."
    default_code = "token_not_valid"


class NoTenant(ApiError):
    status_code = status.HTTP_404_NOT_FOUND
    default_detail = "This user does not belong to a tenant."
    default_code = "no_tenant"


class ModuleDisabled(ApiError):
    status_code = status.HTTP_403_FORBIDDEN
    default_detail = "This module is not enabled for your tenant."
    default_code = "module_disabled"


class NotFound(ApiError):
    status_code = status.HTTP_404_NOT_FOUND
    default_detail = "Not found."
    default_code = "not_found"


class ServiceUnavailable(ApiError):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "A service this request depends on is unavailable. Try again shortly."
    default_code = "service_unavailable"


SERVER_ERROR_DETAIL = "Internal server error"
SERVER_ERROR_CODE = "server_error"


class InvalidInput(ValidationError):
    """400 with field errors: {"detail", "code": "invalid", "errors": {field: [...]}}."""

    default_code = "invalid"


# --- teams (invitations, roles, removal) ---
class PermissionDenied(ApiError):
    status_code = status.HTTP_403_FORBIDDEN
    default_detail = "You do not have permission to perform this action."
    default_code = "permission_denied"


class InvitationTokenInvalid(InvalidOneTimeToken):
    """Used, expired, revoked (deleted) or unknown invitation token: all look the same."""

    default_detail = "This invitation link is invalid or has expired."
    default_code = "invalid_token"


class AlreadyInTenant(ApiError):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "This account already belongs to a tenant."
    default_code = "already_in_tenant"


class CsrfFailed(ApiError):
    """A cookie-transport request failed Django's CSRF check (token or Origin/Referer)."""

    status_code = status.HTTP_403_FORBIDDEN
    default_detail = "CSRF check failed."
    default_code = "csrf_failed"


class NotAuthenticated(ApiError):
    """No credentials at all (e.g. cookie transport without a refresh cookie). Ours, not DRF's:
    DRF turns its own NotAuthenticated into a 403 on views without authentication classes."""

    status_code = status.HTTP_401_UNAUTHORIZED
    default_detail = "Authentication credentials were not provided."
    default_code = "not_authenticated"
