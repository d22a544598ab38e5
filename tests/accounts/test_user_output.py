"""user_output (the fast path of me/login/register) renders exactly what UserOutput, the
documented shape, renders: for users with and without a tenant, odd names and modules."""
from __future__ import annotations

import json

import pytest
from rest_framework.renderers import JSONRenderer

from apps.accounts.serializers import UserOutput, user_output
from tests.factories import TenantFactory, UserFactory


def rendered(data) -> dict:
    return json.loads(JSONRenderer().render(data))


@pytest.mark.parametrize(
    "tenant_kwargs, user_kwargs",
    [
        ({"enabled_modules": ["crm", "billing"]}, {"role": "owner"}),
        ({"enabled_modules": []}, {"role": "member", "first_name": "", "last_name": "Ødegård ✓"}),
        (None, {"role": ""}),
    ],
)
def test_user_output_equals_the_serializer(db, tenant_kwargs, user_kwargs):
    tenant = TenantFactory(**tenant_kwargs) if tenant_kwargs is not None else None
    user = UserFactory(tenant=tenant, **user_kwargs)
    user.refresh_from_db()

    assert rendered(user_output(user)) == rendered(UserOutput(user).data)
    assert set(user_output(user)) == set(UserOutput.Meta.fields)
