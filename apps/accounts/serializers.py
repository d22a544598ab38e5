"""Request and response shapes. Validation of shape only: no writes, no tokens minted."""
from __future__ import annotations

from rest_framework import serializers

from apps.accounts.managers import canonical_email, email_problem
from apps.accounts.models import RefreshSession, Role, User

PASSWORD_MAX = 128  # bounds hashing work per request


# A tenant as every answer shows it (`me`, login, register, GET /api/tenants/current/).
# Declared field by field, not as a ModelSerializer of `tenants.Tenant`, because accounts never
# imports tenants (.importlinter); tenants' views use this class. The fields mirror the model's
# and the OpenAPI schema is the one a ModelSerializer gave. (A comment, not a docstring: a
# docstring would become the schema's description.)
class TenantOutput(serializers.Serializer):
    id = serializers.UUIDField(read_only=True)
    slug = serializers.SlugField(max_length=60)
    name = serializers.CharField(max_length=150)
    enabled_modules = serializers.ListField(child=serializers.CharField(), source="modules", read_only=True)


class UserOutput(serializers.ModelSerializer):
    role = serializers.SerializerMethodField()
    tenant = TenantOutput(allow_null=True, read_only=True)

    class Meta:
        model = User
        fields = ["id", "email", "first_name", "last_name", "role", "tenant", "email_verified"]

    def get_role(self, user: User) -> str | None:
        return user.tenant_role


def user_output(user: User) -> dict:
    """What `UserOutput(user).data` renders, as a plain function.

    `me` is the most frequent request there is, and a ModelSerializer introspects the model
    and builds its fields (and the nested TenantOutput's) on every instantiation: about a
    quarter of that request's CPU. UserOutput stays the documented shape (OpenAPI);
    tests/accounts/test_user_output.py holds the two equal.
    """
    tenant = user.tenant if user.tenant_id else None
    return {
        "id": str(user.id),
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "role": user.tenant_role,
        "tenant": None if tenant is None else {
            "id": str(tenant.id),
            "slug": tenant.slug,
            "name": tenant.name,
            "enabled_modules": tenant.modules,
        },
        "email_verified": user.email_verified,
    }


class PasswordField(serializers.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("write_only", True)
        kwargs.setdefault("trim_whitespace", False)
        kwargs.setdefault("max_length", PASSWORD_MAX)
        kwargs.setdefault("style", {"input_type": "password"})
        super().__init__(**kwargs)


class TokenField(serializers.CharField):
    """A JWT. Length, and emptiness, are judged by the token checks (401 token_not_valid),
    not here, as the contract asks: an empty token is a malformed token, not a missing field."""

    def __init__(self, **kwargs):
        kwargs.setdefault("trim_whitespace", True)
        kwargs.setdefault("allow_blank", True)
        super().__init__(**kwargs)


class CanonicalEmailField(serializers.EmailField):
    """An email address in its canonical form (`managers.canonical_email`); an invisible
    character or an exotic local part is 400 `invalid` (`managers.email_problem`)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 254)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, str) and (problem := email_problem(data)) is not None:
            raise serializers.ValidationError(problem, code="invalid")
        return canonical_email(super().to_internal_value(canonical_email(data) if isinstance(data, str) else data))


class RegisterInput(serializers.Serializer):
    email = CanonicalEmailField()
    password = PasswordField()
    first_name = serializers.CharField(max_length=150, required=False, allow_blank=True, default="")
    last_name = serializers.CharField(max_length=150, required=False, allow_blank=True, default="")
    tenant_name = serializers.CharField(max_length=150, required=False, allow_blank=False, allow_null=True, default=None)


class LoginInput(serializers.Serializer):
    email = serializers.CharField(max_length=254)
    password = PasswordField()


class TokenPairOutput(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField(required=False, help_text="Absent with `X-Auth-Transport: cookie` (it is in the cookie).")


class AuthOutput(TokenPairOutput):
    user = UserOutput()


class CsrfOutput(serializers.Serializer):
    csrf_token = serializers.CharField(help_text="Send as the X-CSRFToken header, with the csrftoken cookie.")


class RefreshInput(serializers.Serializer):
    refresh = TokenField()


class VerifyInput(serializers.Serializer):
    token = TokenField()


class PasswordChangeInput(serializers.Serializer):
    old_password = PasswordField()
    new_password = PasswordField()


class PasswordResetInput(serializers.Serializer):
    email = CanonicalEmailField()


class PasswordResetConfirmInput(serializers.Serializer):
    uid = serializers.CharField(max_length=64)
    token = serializers.CharField(max_length=128)
    new_password = PasswordField()


class EmailVerifyInput(serializers.Serializer):
    token = serializers.CharField(max_length=256)


class DetailOutput(serializers.Serializer):
    detail = serializers.CharField()


class UserOnlyOutput(serializers.Serializer):
    user = UserOutput()


class SessionOutput(serializers.ModelSerializer):
    current = serializers.SerializerMethodField()

    class Meta:
        model = RefreshSession
        fields = ["id", "created_at", "last_used_at", "ip", "user_agent", "current"]

    def get_current(self, session: RefreshSession) -> bool:
        return str(session.id) == str(self.context.get("current_session_id"))


class MemberCreateInput(RegisterInput):
    tenant_name = None
    role = serializers.ChoiceField(choices=[Role.ADMIN, Role.MEMBER], default=Role.MEMBER)


class LogoutAllOutput(serializers.Serializer):
    revoked_sessions = serializers.IntegerField()


class JwksOutput(serializers.Serializer):
    keys = serializers.ListField(child=serializers.DictField(), help_text=(
        "Public JWKs (RFC 7517): kty, kid, alg, use=sig and the public parameters (crv, x, y or n, e). "
        "Empty with HS256."
    ))
