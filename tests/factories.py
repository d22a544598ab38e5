"""Test data. Passwords are real (hashed with the fast test hasher)."""
from __future__ import annotations

import factory

from apps.accounts.models import Role, User
from apps.tenants.models import Tenant

PASSWORD = "Correct-Horse-42!"


class TenantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tenant

    name = factory.Sequence(lambda n: f"Tenant {n}")
    slug = factory.Sequence(lambda n: f"tenant-{n}")
    enabled_modules = factory.LazyFunction(list)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    first_name = "Ada"
    last_name = "Lovelace"
    tenant = factory.SubFactory(TenantFactory)
    role = Role.OWNER

    @factory.post_generation
    def password(self, create, extracted, **kwargs):
        self.set_password(extracted or PASSWORD)
        if create:
            self.save(update_fields=["password"])
