"""What a valid `enabled_modules` value is: one rule for the API and the admin."""
from __future__ import annotations

import re
from typing import Any

MODULE_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,49}$")
MAX_MODULES = 50
RULE = f"a list of at most {MAX_MODULES} module names: lowercase letters, digits, '-' or '_' (at most 50 each)"


def clean_modules(value: Any) -> list[str]:
    """The list de-duplicated in order; ValueError (with RULE) for anything else."""
    if (
        not isinstance(value, list) or len(value) > MAX_MODULES
        or not all(isinstance(m, str) and MODULE_NAME.match(m) for m in value)
    ):
        raise ValueError(f"Expected {RULE}.")
    return list(dict.fromkeys(value))
