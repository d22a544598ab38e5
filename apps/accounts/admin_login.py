"""The Django admin's login form, behind the same limits and records as the API's login.

Guarantees, and why
-------------------
- The admin login shares the API's per-account (`login_email`) and per-client (`login_ip`)
  counters, counting failures only: five wrong passwords through either door lock the
  account out of both for the window, and a correct password is refused while locked (the
  throttle is asked before the password is checked, so a locked account costs no hash).
- Every refused attempt on an existing account is a `login_failed` event, a success a
  `login_succeeded` event (no session: the admin's is a Django session), each with a log line;
  an unknown email records no event (events cannot enumerate accounts), as on the API.
- A locked attempt answers the form's error page, not a JSON 429: this is a browser form.
"""
from __future__ import annotations

import logging
import math

from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError

from apps.accounts.managers import normalize_email
from apps.accounts.models import User
from apps.accounts.throttles import AdminLoginEmailThrottle, AdminLoginIpThrottle
from apps.audit.models import EventType
from apps.audit.services import event_record
from apps.core.device import request_device

logger = logging.getLogger(__name__)

LOCKED = "Too many failed attempts. Try again in %(seconds)d seconds."


class _Attempt:
    """What the throttles read: the request's META (client address) and `data["email"]`."""

    def __init__(self, request, email: str) -> None:
        self.META = request.META
        self.headers = request.headers
        self.data = {"email": email}


class ThrottledAdminAuthenticationForm(AdminAuthenticationForm):
    def clean(self):
        email = self.cleaned_data.get("username") or ""
        attempt = _Attempt(self.request, email)
        device = request_device(self.request)
        throttles = [AdminLoginEmailThrottle(), AdminLoginIpThrottle()]
        for throttle in throttles:
            if not throttle.allow_request(attempt, None):
                logger.warning("Admin login refused from %s: throttled", device["ip"])
                raise ValidationError(LOCKED, code="throttled", params={"seconds": math.ceil(throttle.wait())})
        try:
            cleaned = super().clean()
        except ValidationError:
            for throttle in throttles:
                throttle.record_failure(attempt, None)
            user = User.objects.filter(email=normalize_email(email)).first() if email else None
            if user is not None:
                event_record(type=EventType.LOGIN_FAILED, user=user, **device)
            logger.warning("Admin login failed from %s", device["ip"])
            raise
        user = self.get_user()
        event_record(type=EventType.LOGIN_SUCCEEDED, user=user, **device)
        logger.info("Admin login succeeded for user %s from %s", user.id, device["ip"])
        return cleaned
