"""The /api/auth/ endpoints (register/ is apps/tenants/views.py: sign-up may create a tenant).
Each view: validate input, call one service, serialize."""
from __future__ import annotations

from functools import partial

from django.conf import settings
from django.middleware.csrf import get_token
from django.utils.cache import add_never_cache_headers
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts import selectors, services, throttles, transport
from apps.accounts import serializers as s
from apps.accounts.authentication import user_for_access_token
from apps.accounts.keys import keyring
from apps.accounts.tokens import SESSION_CLAIM, decode_untyped
from apps.core.device import request_device
from apps.core.exceptions import TokenNotValid
from apps.core.schema import errors

TAG = "auth"
# OpenAPI for endpoints that issue a pair (see apps/accounts/transport.py).
CSRF_403 = "csrf_failed: cookie transport without a valid CSRF token and Origin."
PAIR_PARAMETERS = [transport.TRANSPORT_PARAMETER, transport.set_cookie_header(200, 201)]
RESET_REQUESTED = "If an active account uses this address, a link to reset its password is on its way."
VERIFY_RESENT = "If your address is not verified yet, a new verification link is on its way."


def _session_id(request) -> str | None:
    return request.auth.get(SESSION_CLAIM) if request.auth is not None else None


class PublicView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]


class LoginView(PublicView):
    """Exchange email and password for an access and a refresh token."""

    throttle_classes = [throttles.LoginIpThrottle, throttles.LoginEmailThrottle]

    @extend_schema(
        tags=[TAG], request=s.LoginInput, parameters=PAIR_PARAMETERS,
        responses={200: s.AuthOutput, **errors(400, 401, 403, 429, s403=(
            "account_inactive, tenant_inactive, or email_not_verified (EMAIL_VERIFICATION=mandatory; "
            f"only after a correct password, and the verification email is sent again); {CSRF_403}"
        ))},
    )
    def post(self, request):
        data = s.LoginInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            user, pair = services.user_login(**data.validated_data, **request_device(request))
        except services.LOGIN_FAILURES:
            throttles.LoginEmailThrottle().record_failure(request, self)  # failures only
            raise
        return transport.pair_response(request, {"user": s.user_output(user), **pair.body()})


class RefreshView(PublicView):
    """Rotate a refresh token: returns a new pair; the presented token is then spent."""

    throttle_classes = [throttles.RefreshThrottle]

    @extend_schema(
        tags=[TAG], request=s.RefreshInput,
        parameters=[*PAIR_PARAMETERS, transport.refresh_cookie_parameter()],
        description="Cookie transport: the body may be empty; the token is read from the cookie "
        "(a `refresh` in the body is ignored), and no cookie is 401 `not_authenticated`.",
        responses={200: s.TokenPairOutput, **errors(400, 401, 403, 429, s403=CSRF_403)},
    )
    def post(self, request):
        refresh = transport.presented_refresh(request)
        pair = services.session_rotate(refresh=refresh, **request_device(request))
        return transport.pair_response(request, pair.body())


class VerifyView(PublicView):
    """200 {} if the token (access or refresh) would be accepted now, else 401."""

    throttle_classes = [throttles.RefreshThrottle]

    @extend_schema(tags=[TAG], request=s.VerifyInput, responses={200: OpenApiResponse(OpenApiTypes.OBJECT, description="Valid: `{}`."), **errors(400, 401, 429)})
    def post(self, request):
        data = s.VerifyInput(data=request.data)
        data.is_valid(raise_exception=True)
        token = decode_untyped(data.validated_data["token"])
        token_type = token.get("token_type")
        if token_type == "access":
            user_for_access_token(token)
        elif token_type != "refresh" or not services.refresh_is_usable(token=token):
            raise TokenNotValid()
        return Response({})


class LogoutView(APIView):
    """Revoke the session behind the given refresh token (other sessions stay)."""

    @extend_schema(
        tags=[TAG], request=s.RefreshInput,
        parameters=[transport.TRANSPORT_PARAMETER, transport.refresh_cookie_parameter(), transport.set_cookie_header(205)],
        description="Cookie transport: no body needed; revokes the cookie's session and clears the "
        "cookie (205 also when there is no cookie).",
        responses={205: None, **errors(400, 401, 403, s403=CSRF_403)},
    )
    def post(self, request):
        revoke = partial(services.session_revoke_by_refresh, user=request.user, **request_device(request))
        return transport.logout_response(request, revoke=revoke)


class LogoutAllView(APIView):
    """Revoke every session of the caller, and every access token issued so far."""

    @extend_schema(
        tags=[TAG], request=None, parameters=[transport.TRANSPORT_PARAMETER, transport.set_cookie_header(200)],
        description="Cookie transport: CSRF required; the (now dead) refresh cookie is cleared.",
        responses={200: s.LogoutAllOutput, **errors(401, 403, s403=CSRF_403)},
    )
    def post(self, request):
        count = services.user_logout_all(user=request.user, session_id=_session_id(request), **request_device(request))
        return transport.sessions_ended_response(request, {"revoked_sessions": count})


class MeView(APIView):
    """The caller's profile, tenant and role."""

    @extend_schema(tags=[TAG], responses={200: s.UserOutput, **errors(401)})
    def get(self, request):
        return Response(s.user_output(request.user))


class PasswordChangeView(APIView):
    """Change password: a new pair for this session; every other session is revoked."""

    throttle_classes = [throttles.PasswordChangeThrottle]

    @extend_schema(
        tags=[TAG], request=s.PasswordChangeInput, parameters=PAIR_PARAMETERS,
        responses={200: s.TokenPairOutput, **errors(400, 401, 403, 429, s403=CSRF_403)},
    )
    def post(self, request):
        data = s.PasswordChangeInput(data=request.data)
        data.is_valid(raise_exception=True)
        pair = services.user_change_password(
            user=request.user, session_id=_session_id(request), **data.validated_data, **request_device(request)
        )
        return transport.pair_response(request, pair.body())


class PasswordResetView(PublicView):
    """Email a password-reset link, if an active account uses this address (same answer either way)."""

    throttle_classes = [throttles.PasswordResetIpThrottle, throttles.PasswordResetEmailThrottle]

    @extend_schema(tags=[TAG], request=s.PasswordResetInput, responses={202: s.DetailOutput, **errors(400, 429)})
    def post(self, request):
        data = s.PasswordResetInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.password_reset_request(email=data.validated_data["email"], **request_device(request))
        return Response({"detail": RESET_REQUESTED}, status=status.HTTP_202_ACCEPTED)


class PasswordResetConfirmView(PublicView):
    """Set a new password with the uid and token of a reset link; every session is revoked."""

    throttle_classes = [throttles.PasswordResetConfirmThrottle]

    @extend_schema(tags=[TAG], request=s.PasswordResetConfirmInput, responses={
        200: OpenApiResponse(OpenApiTypes.OBJECT, description="`{}`: password changed, every session revoked."),
        **errors(400, 429, s400="invalid_token: the link is used, expired or wrong; invalid: see "
                 "`errors.new_password` (a refused password does not use the link up)."),
    })
    def post(self, request):
        data = s.PasswordResetConfirmInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.password_reset_confirm(**data.validated_data, **request_device(request))
        return Response({})


class EmailVerifyView(PublicView):
    """Verify the email address with the token of a verification link."""

    throttle_classes = [throttles.EmailVerifyThrottle]

    @extend_schema(tags=[TAG], request=s.EmailVerifyInput, responses={
        200: s.UserOutput, **errors(400, 429, s400="invalid_token: the link is used, expired or wrong; invalid: no token."),
    })
    def post(self, request):
        data = s.EmailVerifyInput(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.email_verify(token=data.validated_data["token"], **request_device(request))
        return Response(s.user_output(user))


class EmailVerifyResendView(APIView):
    """Send the caller a new verification link (nothing if already verified)."""

    throttle_classes = [throttles.EmailVerifyResendThrottle]

    @extend_schema(tags=[TAG], request=None, responses={202: s.DetailOutput, **errors(401, 429)})
    def post(self, request):
        services.email_verification_resend(user=request.user)
        return Response({"detail": VERIFY_RESENT}, status=status.HTTP_202_ACCEPTED)


class SessionListView(APIView):
    """The caller's active sessions (not paginated); `current` marks this one."""

    @extend_schema(tags=[TAG], responses={200: s.SessionOutput(many=True), **errors(401)})
    def get(self, request):
        sessions = selectors.session_list_for_user(user=request.user)
        context = {"current_session_id": _session_id(request)}
        return Response(s.SessionOutput(sessions, many=True, context=context).data)


class SessionDetailView(APIView):
    """Revoke one of the caller's sessions."""

    @extend_schema(tags=[TAG], responses={204: OpenApiResponse(description="Revoked."), **errors(401, 404)})
    def delete(self, request, session_id):
        services.session_revoke_by_id(user=request.user, session_id=session_id, **request_device(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Signing keys -------------------------------------------------------------------------------
class JwksView(PublicView):
    """The public keys that verify our access tokens (RFC 7517 JWK Set); empty with HS256.

    Cacheable by anyone for JWKS_MAX_AGE_SECONDS: a verifier that meets an unknown `kid`
    refetches (PyJWKClient does), and the previous keys stay listed through a rotation.
    """

    def perform_content_negotiation(self, request, force=False):
        # Verifiers may ask for application/jwk-set+json (RFC 7517 section 8.6) or anything
        # else: the JWKS is always served as JSON rather than refused with 406.
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(tags=["keys"], auth=[], responses={200: s.JwksOutput})
    def get(self, request):
        response = Response(keyring().jwks())
        response["Cache-Control"] = f"public, max-age={settings.JWKS_MAX_AGE_SECONDS}"
        return response


class CsrfView(PublicView):
    """A CSRF token for the cookie transport: send it back as X-CSRFToken (sets `csrftoken` too)."""

    @extend_schema(tags=[TAG], responses={200: s.CsrfOutput})
    def get(self, request):
        response = Response({"csrf_token": get_token(request)})
        add_never_cache_headers(response)
        return response
