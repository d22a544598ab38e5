"""The password rule: Django's AUTH_PASSWORD_VALIDATORS, for every path that sets a password
(sign-up, invitation acceptance, change, reset)."""
from __future__ import annotations

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError as DjangoValidationError

from apps.accounts.models import User
from apps.core.exceptions import InvalidInput


def password_validate(password: str, *, user: User, field: str = "password") -> None:
    """400 `invalid` with the validators' messages under the request's own field name
    (`password`, `new_password`) when the password is refused; nothing otherwise."""
    try:
        password_validation.validate_password(password, user=user)
    except DjangoValidationError as exc:
        raise InvalidInput({field: list(exc.messages)}) from exc
