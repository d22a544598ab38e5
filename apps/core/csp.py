"""Content-Security-Policy for the HTML pages this service serves: the API docs (Swagger UI
at /api/docs/, ReDoc at /api/redoc/) and the demo pages under /static/ (frontend/*.html).

One policy, stated here once. Scripts come only from this origin, as files (no inline script,
no eval): an injected `<script>` or `onclick=` does not run. Styles may be inline: ReDoc
(styled-components) inserts `<style>` elements at run time, and the pages carry a small
`<style>` block; styles cannot run code. Fetches go to this origin only (`connect-src`), so a
script that did run could not send a token elsewhere; `frame-ancestors 'none'` matches
X-Frame-Options: DENY.

The JSON API needs no policy (browsers render no JSON as a document) and the Django admin keeps
Django's own pages untouched; a site-wide middleware (django-csp) would cover those too, and
WhiteNoise answers static files before any middleware after it could add a header, which is
why static pages get theirs from `add_static_headers` (WHITENOISE_ADD_HEADERS_FUNCTION).
`tests/accounts/test_browser_client.py` loads every page in Chromium and fails on any
violation.
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

HEADER = "Content-Security-Policy"
POLICY = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "worker-src 'self' blob:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))


def with_policy(view: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a view that renders an HTML page: its responses carry POLICY."""

    @functools.wraps(view)
    def wrapped(request: Any, *args: Any, **kwargs: Any) -> Any:
        response = view(request, *args, **kwargs)
        response.headers.setdefault(HEADER, POLICY)
        return response

    return wrapped


def add_static_headers(headers: Any, path: str, url: str) -> None:
    """WHITENOISE_ADD_HEADERS_FUNCTION: static HTML pages (the demo) carry POLICY."""
    if url.endswith((".html", ".htm")):
        headers[HEADER] = POLICY
