"""User-chosen text (a tenant's name, a person's name) as it may appear in our mail.

Guarantee, and why: a name someone chose is shown as inert plain text. Our mail comes from our
address, so a name like "Pay here: https://evil.example/login" would lend our reputation to a
phishing link. `plain_name` strips URL schemes and breaks every host-like token
("evil.example" -> "evil[.]example"), so no mail client makes it clickable or auto-links it,
and folds it to one line (a name must not break the Subject header). It runs on NFKC-folded
text, so fullwidth or other compatibility dots ("evil．example") are caught too.
"""
from __future__ import annotations

import re
import unicodedata

# A scheme: any "word://", or one that links without slashes ("mailto:", "javascript:").
_SCHEME = re.compile(
    r"\b(?:[a-z][a-z0-9+.\-]*://|(?:mailto|javascript|data|tel|sms|file|callto|skype):)", re.IGNORECASE,
)
# A dot between two word characters: a host-like token ("evil.example", "1.2.3.4"). The
# ideographic and halfwidth full stops count too: some clients treat them as dots.
_HOST_DOT = re.compile(r"(?<=\w)[.\u3002\uff61](?=\w)")
_LINE_BREAKS = {"Cc", "Zl", "Zp"}  # become spaces
_INVISIBLE = {"Cf"}  # removed (zero-width, soft hyphen, bidi): they would hide a dot from us


def plain_name(value: str) -> str:
    """`value` on one line, without schemes or invisible characters, with host-like tokens
    defused (see module docstring)."""
    text = unicodedata.normalize("NFKC", value or "")
    text = "".join(
        " " if category in _LINE_BREAKS else c
        for c in text if (category := unicodedata.category(c)) not in _INVISIBLE
    )
    text = _SCHEME.sub("", text)
    text = _HOST_DOT.sub("[.]", text)
    return " ".join(text.split())
