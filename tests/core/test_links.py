"""Every emailed URL (reset, verification, invitation) is built by `apps.core.links.link`:
values are percent-encoded whole, so none can end or add a query parameter."""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from apps.accounts import emails
from apps.accounts.models import User
from apps.core.links import link
from apps.tenants.services.invitations import accept_link

AWKWARD = "a+b/c=d&role=owner#frag %e9"


def test_a_value_with_url_syntax_comes_back_whole_from_the_query():
    url = link("https://app.test/x?token={token}&from=mail", token=AWKWARD)

    assert parse_qs(urlsplit(url).query) == {"token": [AWKWARD], "from": ["mail"]}
    assert urlsplit(url).fragment == ""


def test_other_braces_in_the_operator_url_are_left_alone():
    assert link("https://app.test/{lang}/reset?t={token}", token="t1") == "https://app.test/{lang}/reset?t=t1"


def test_the_invitation_link_is_url_encoded(settings):
    settings.INVITE_ACCEPT_URL = "https://app.test/join?token={token}&src=mail"

    url = accept_link(AWKWARD)

    assert parse_qs(urlsplit(url).query) == {"token": [AWKWARD], "src": ["mail"]}


@pytest.mark.parametrize("setting", ["PASSWORD_RESET_URL", "EMAIL_VERIFY_URL"])
def test_the_account_links_are_url_encoded(settings, setting):
    setattr(settings, setting, "https://app.test/p?uid={uid}&token={token}")
    user = User(email="x+tag@example.com")
    message = (emails.password_reset_email(user=user, uid="u=1", token=AWKWARD) if setting == "PASSWORD_RESET_URL"
               else emails.email_verification_email(user=user, token=AWKWARD))

    [url] = [line for line in message["body"].splitlines() if line.startswith("https://app.test/p?")]
    assert parse_qs(urlsplit(url).query)["token"] == [AWKWARD]
