"""Links in outgoing mail (password reset, email verification, invitation): one builder."""
from __future__ import annotations

from urllib.parse import quote


def link(template: str, **values: str) -> str:
    """`template` (an operator's frontend URL, e.g. PASSWORD_RESET_URL) with each `{name}`
    replaced by its value, percent-encoded whole (`quote(value, safe="")`): a value can never
    end the query parameter it sits in or add another (`&`, `#`, `=`, `+`, `/`). str.replace,
    not str.format, because an operator's URL may hold other braces."""
    for name, value in values.items():
        template = template.replace("{" + name + "}", quote(value, safe=""))
    return template
