"""Header vs cookie transport of the refresh token, and CSRF for the cookie transport.

An edge concern, used by views (and one middleware) only; the session rules stay in
`services/sessions.py`, which never knows how a token travelled.

Two transports, chosen per request (contract: "Browser clients: refresh token in an HttpOnly
cookie"):

- **header transport** (default): tokens travel in JSON bodies; nothing here changes them.
- **cookie transport** (`X-Auth-Transport: cookie`): the refresh token lives in an HttpOnly
  cookie scoped to `/api/auth/`, so JavaScript (and therefore an XSS bug) can never read it;
  bodies carry the access token only. Because a cookie is an *ambient* credential, every
  unsafe request in this transport must pass Django's own CSRF check, which
  `CookieTransportCsrfMiddleware` runs before any view code, so a refused request changes
  nothing (a refresh refused for CSRF neither rotates nor spends its token).

API for views (each pair-issuing view is one line):

    return transport.pair_response(request, {"user": ..., **tokens}, status=201)
    refresh = transport.presented_refresh(request)        # body or cookie, per transport
    return transport.logout_response(request, revoke=partial(session_revoke_by_refresh, user=...))
    return transport.sessions_ended_response(request, {"revoked_sessions": n})  # logout-all

`pair_response` takes the body the header transport would answer (with `refresh`) and, in
cookie transport, moves `refresh` into the Set-Cookie header. Nothing else in a view needs
to know the transport. New endpoints that issue a pair (invitation accept, ...) call
`pair_response` and get the cookie transport, CSRF included, for free.

Without `X-Auth-Transport: cookie` the refresh cookie is never read (contract), so a
browser that happens to hold one cannot be driven by a forged header-transport request.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

import jwt
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.utils.cache import add_never_cache_headers
from drf_spectacular.utils import OpenApiParameter
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core import clock
from apps.core.exception_handler import json_error_response
from apps.core.exceptions import CsrfFailed, NotAuthenticated, TokenNotValid

logger = logging.getLogger(__name__)

HEADER = "X-Auth-Transport"
COOKIE_TRANSPORT = "cookie"
# The refresh cookie is sent to the auth endpoints only: never to the rest of the API.
COOKIE_PATH = "/api/auth/"
_EPOCH = "Thu, 01 Jan 1970 00:00:00 GMT"


# --- which transport --------------------------------------------------------------------------
def uses_cookie(request: HttpRequest | Request) -> bool:
    """True when the request asked for the cookie transport (`X-Auth-Transport: cookie`,
    any case). Any other value, or none, is the header transport."""
    return request.headers.get(HEADER, "").strip().lower() == COOKIE_TRANSPORT


# --- CSRF -------------------------------------------------------------------------------------
class _CsrfCheck(CsrfViewMiddleware):
    """Django's CSRF middleware, asked for a verdict instead of a 403 page (as DRF's
    `SessionAuthentication.enforce_csrf` does): same token, Origin and Referer rules,
    same CSRF_TRUSTED_ORIGINS, same cookie settings."""

    def _reject(self, request: HttpRequest, reason: str) -> str:  # type: ignore[override]
        return reason


def _no_response(request: HttpRequest) -> None:  # the check never calls the view
    return None


def enforce_csrf(request: HttpRequest) -> None:
    """Raise CsrfFailed (403 csrf_failed) unless the request passes Django's CSRF check:
    `X-CSRFToken` matching the `csrftoken` cookie, and an `Origin` (or, over HTTPS with no
    Origin, a `Referer`) that is this service's own origin or in CSRF_TRUSTED_ORIGINS.
    Safe methods (GET, HEAD, OPTIONS, TRACE) always pass."""
    check = _CsrfCheck(_no_response)
    check.process_request(request)
    reason = check.process_view(request, None, (), {})
    if reason:
        # The reason names what failed (e.g. the foreign Origin); it never holds a token.
        logger.warning("CSRF check failed on %s %s: %s", request.method, request.path, reason)
        raise CsrfFailed(f"CSRF check failed: {reason}")


class CookieTransportCsrfMiddleware:
    """Every unsafe cookie-transport request to a csrf_exempt view must pass `enforce_csrf`.

    DRF views are csrf_exempt, which is why Django's own CsrfViewMiddleware skips them; every
    other view already had that middleware's check. Keyed on the view the URL resolved to
    (`process_view`), never on the path: behind a `SCRIPT_NAME` prefix or with the API mounted
    under a sub-path, `request.path` no longer starts with `/api/`, and the view is the same.
    A middleware, not a per-view hook, so no endpoint can forget it, and it runs before the
    view (and its throttles, parsers and services): a refused request changes nothing.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func: Callable[..., Any], view_args: Any, view_kwargs: Any) -> HttpResponse | None:
        if getattr(view_func, "csrf_exempt", False) and uses_cookie(request):
            try:
                enforce_csrf(request)
            except CsrfFailed as exc:
                return json_error_response(request, exc)
        return None


# --- reading the refresh token ----------------------------------------------------------------
def cookie_name() -> str:
    return settings.REFRESH_COOKIE_NAME


def presented_refresh(request: Request) -> str:
    """The refresh token this request presents: the body's `refresh` (header transport,
    400 invalid when missing), or the refresh cookie (cookie transport, where the body is
    ignored; 401 not_authenticated when there is no cookie)."""
    if uses_cookie(request):
        raw = request.COOKIES.get(cookie_name())
        if not raw:
            raise NotAuthenticated("No refresh cookie: log in again.")
        return raw
    from apps.accounts.serializers import RefreshInput

    data = RefreshInput(data=request.data)
    data.is_valid(raise_exception=True)
    return data.validated_data["refresh"]


# --- answering with a token pair --------------------------------------------------------------
def pair_response(request: Request, data: Mapping[str, Any], *, status: int = 200) -> Response:
    """The answer for an endpoint that issues a token pair.

    `data` is the header-transport body, with `refresh` in it. Cookie transport: the same
    body without the `refresh` key, and that token in the refresh cookie (a body with no
    `refresh`, e.g. a registration that must verify its email first, sets none). Both transports
    get `Cache-Control: no-store` (RFC 6749 section 5.1: token responses are never cached).
    """
    if uses_cookie(request):
        body = {key: value for key, value in data.items() if key != "refresh"}
        response = Response(body, status=status)
        if data.get("refresh"):
            set_refresh_cookie(response, data["refresh"])
    else:
        response = Response(dict(data), status=status)
    add_never_cache_headers(response)
    return response


def logout_response(request: Request, *, revoke: Callable[..., None]) -> Response:
    """Logout in either transport; `revoke(refresh=token)` ends the session a token names.

    Header transport: `revoke(refresh=body's token)`; its errors (400, 401) are the answer.
    Cookie transport: `revoke(refresh=cookie)` when there is a cookie; 205 either way and the cookie
    cleared. A cookie that names no live session of the caller has nothing left to revoke,
    so it is just cleared (logout leaves the browser logged out, whatever the cookie held).
    """
    if not uses_cookie(request):
        revoke(refresh=presented_refresh(request))
        return Response(status=205)
    raw = request.COOKIES.get(cookie_name())
    if raw:
        try:
            revoke(refresh=raw)
        except TokenNotValid:
            logger.info("Logout with an unusable refresh cookie: cleared it")
    response = Response(status=205)
    clear_refresh_cookie(response)
    return response


def sessions_ended_response(request: Request, data: Mapping[str, Any], *, status: int = 200) -> Response:
    """The answer after the caller's own session was revoked by other means (logout-all):
    `data` as is; in cookie transport the refresh cookie, now dead, is cleared too."""
    response = Response(dict(data), status=status)
    if uses_cookie(request):
        clear_refresh_cookie(response)
    return response


# --- the cookie itself ------------------------------------------------------------------------
def _cookie_attributes() -> dict[str, Any]:
    return {
        "path": COOKIE_PATH,
        "domain": settings.REFRESH_COOKIE_DOMAIN or None,  # host-only unless configured
        "secure": settings.REFRESH_COOKIE_SECURE,
        "httponly": True,
        "samesite": settings.REFRESH_COOKIE_SAMESITE,
    }


def _seconds_until_exp(refresh: str) -> int:
    # Our own token, minted moments ago: only its exp is read, to size the cookie.
    exp = jwt.decode(refresh, options={"verify_signature": False})["exp"]
    return max(0, int(exp) - clock.epoch_seconds(clock.now()))


def set_refresh_cookie(response: HttpResponse, refresh: str) -> None:
    """The refresh cookie, living exactly as long as the token it holds (Max-Age = exp - now)."""
    response.set_cookie(cookie_name(), refresh, max_age=_seconds_until_exp(refresh), **_cookie_attributes())


def clear_refresh_cookie(response: HttpResponse) -> None:
    """Delete the refresh cookie: same name, Path and Domain as when set, Max-Age=0."""
    response.set_cookie(cookie_name(), "", max_age=0, expires=_EPOCH, **_cookie_attributes())


# --- OpenAPI ----------------------------------------------------------------------------------
TRANSPORT_PARAMETER = OpenApiParameter(
    name=HEADER,
    type=str,
    location=OpenApiParameter.HEADER,
    required=False,
    enum=[COOKIE_TRANSPORT],
    description=(
        "`cookie`: browser (cookie) transport. The refresh token travels in an HttpOnly cookie "
        f"(Path={COOKIE_PATH}) instead of the body: responses carry no `refresh` key, and "
        "the request must pass Django's CSRF check (`X-CSRFToken` from GET /api/auth/csrf/, and "
        "an Origin of this service or CSRF_TRUSTED_ORIGINS), else 403 `csrf_failed`. "
        "Absent: header transport, tokens in JSON bodies."
    ),
)


def refresh_cookie_parameter() -> OpenApiParameter:
    return OpenApiParameter(
        name=settings.REFRESH_COOKIE_NAME,
        type=str,
        location=OpenApiParameter.COOKIE,
        required=False,
        description=(
            "The refresh token (HttpOnly cookie set by this service). Read only with "
            "`X-Auth-Transport: cookie`; never without it."
        ),
    )


def set_cookie_header(*statuses: int) -> OpenApiParameter:
    return OpenApiParameter(
        name="Set-Cookie",
        type=str,
        location=OpenApiParameter.HEADER,
        response=list(statuses),
        description=(
            "Cookie transport only: the refresh cookie (HttpOnly; Secure unless DEBUG; "
            f"SameSite=REFRESH_COOKIE_SAMESITE; Path={COOKIE_PATH}; Max-Age = seconds until the "
            "token expires; Domain=REFRESH_COOKIE_DOMAIN if set). Logout clears it (Max-Age=0)."
        ),
    )
