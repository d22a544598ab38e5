"""One canonical form of an email address (issue 23 item 2): NFKC, lower case, IDNA domain;
invisible characters and exotic local parts refused with 400 `invalid`. Through HTTP."""
from __future__ import annotations

import importlib
import logging

import pytest
from django.apps import apps as django_apps

from apps.accounts.models import User
from apps.mail.models import OutboundMail
from tests.factories import PASSWORD, UserFactory

REGISTER = "/api/auth/register/"
RESET = "/api/auth/password/reset/"
LOGIN = "/api/auth/login/"
INVITATIONS = "/api/tenants/current/invitations/"
VICTIM = "victim@example.com"


def register(client, email):
    return client.post(REGISTER, {"email": email, "password": PASSWORD}, format="json")


@pytest.mark.parametrize("variant", [
    "ＶＩＣＴＩＭ@example.com",  # fullwidth letters
    "victim@ＥＸＡＭＰＬＥ.com",
    "Victim@Example.COM",
])
def test_a_compatibility_variant_of_a_taken_address_is_the_same_address(db, api_client, variant):
    UserFactory(email=VICTIM)

    response = register(api_client, variant)

    assert response.status_code == 400 and response.json()["code"] == "invalid"
    assert "email" in response.json()["errors"]
    assert User.objects.count() == 1


def test_a_ligature_is_stored_and_found_as_its_letters(db, api_client):
    assert register(api_client, "ﬁnance@example.com").status_code == 201
    assert User.objects.get().email == "finance@example.com"
    assert api_client.post(LOGIN, {"email": "finance@example.com", "password": PASSWORD}, format="json").status_code == 200


@pytest.mark.parametrize("address", [
    "vic\u00adtim@example.com",  # soft hyphen
    "vic\u200btim@example.com",  # zero-width space
    "victim\u202e@example.com",  # right-to-left override
    '"victim@x"@evil.example',  # quoted local part
    '"victim"@example.com',
    "vic tim@example.com",
])
@pytest.mark.parametrize("path", [REGISTER, RESET])
def test_invisible_characters_and_exotic_local_parts_are_400_invalid(db, api_client, address, path):
    body = {"email": address, "password": PASSWORD} if path == REGISTER else {"email": address}

    response = api_client.post(path, body, format="json")

    assert response.status_code == 400 and response.json()["code"] == "invalid"
    assert "email" in response.json()["errors"]
    assert not User.objects.exists() and not OutboundMail.objects.exists()


def test_the_per_email_reset_limit_is_not_defeated_by_variants(db, api_client, rates):
    rates(password_reset_email="5/hour")
    UserFactory(email="finance@example.com")
    variants = ["finance@example.com", "ﬁnance@example.com", "FINANCE@example.com", "ｆｉｎａｎｃｅ@example.com",
                "finance@ＥＸＡＭＰＬＥ.com", "ﬁnance@EXAMPLE.com"]

    answers = [api_client.post(RESET, {"email": v}, format="json").status_code for v in variants]

    assert answers == [202] * 5 + [429]
    assert OutboundMail.objects.filter(to="finance@example.com").count() == 5
    assert set(OutboundMail.objects.values_list("to", flat=True)) == {"finance@example.com"}


def test_an_invitation_to_a_variant_goes_to_the_canonical_address(db, user, api_client):
    from tests.support.api import client_for

    response = client_for(user).post(INVITATIONS, {"email": "ﬁnance@ＥＸＡＭＰＬＥ.com"}, format="json")

    assert response.status_code == 201 and response.json()["email"] == "finance@example.com"
    assert client_for(user).post(INVITATIONS, {"email": '"x@y"@evil.example'}, format="json").json()["code"] == "invalid"


def test_the_data_migration_canonicalises_rows_and_reports_collisions_without_merging(db, caplog, capsys):
    lone = UserFactory(email="placeholder1@example.com")
    twin_a = UserFactory(email="placeholder2@example.com")
    twin_b = UserFactory(email="placeholder3@example.com")
    User.objects.filter(pk=lone.pk).update(email="ﬁnance@example.com")  # raw rows, as before the fix
    User.objects.filter(pk=twin_b.pk).update(email="ｖｉｃｔｉｍ@example.com")
    User.objects.filter(pk=twin_a.pk).update(email=VICTIM)
    migration = importlib.import_module("apps.accounts.migrations.0004_canonical_emails")

    with caplog.at_level(logging.WARNING):
        migration.canonicalise(django_apps, None)

    assert User.objects.get(pk=lone.pk).email == "finance@example.com"
    assert User.objects.get(pk=twin_a.pk).email == VICTIM
    assert User.objects.get(pk=twin_b.pk).email == "ｖｉｃｔｉｍ@example.com"  # not merged, not changed
    reported = capsys.readouterr().err + caplog.text
    assert "collision" in reported and str(twin_a.pk) in reported and str(twin_b.pk) in reported
