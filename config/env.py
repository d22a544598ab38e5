"""The only module that reads the process environment (and `.env`).

Values come from real environment variables first, then from a `.env` file in the project
root, then from the default given here. Typed helpers keep parsing in one place, so a
setting's type and default are visible where it is declared.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from decouple import Config, Csv, RepositoryEmpty, RepositoryEnv, UndefinedValueError

BASE_DIR = Path(__file__).resolve().parent.parent

_env_file = BASE_DIR / ".env"
_config = Config(RepositoryEnv(str(_env_file)) if _env_file.is_file() else RepositoryEmpty())

_MISSING: Any = object()


def env_str(name: str, default: str | None = _MISSING) -> str | None:
    """A string variable; `default=None` makes it optional."""
    if default is _MISSING:
        return _config(name)
    return _config(name, default=default)


def env_bool(name: str, default: bool) -> bool:
    return _config(name, default=default, cast=bool)


def env_int(name: str, default: int) -> int:
    return _config(name, default=default, cast=int)


def env_float(name: str, default: float) -> float:
    return _config(name, default=default, cast=float)


def env_list(name: str, default: str = "") -> list[str]:
    """A comma-separated list; blanks are dropped."""
    return [item for item in _config(name, default=default, cast=Csv()) if item]


def is_set(name: str) -> bool:
    try:
        return bool(_config(name))
    except UndefinedValueError:
        return False
