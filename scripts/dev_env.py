"""Create a local .env for development (DEBUG=True, fresh random keys, SQLite, no Redis).

Never overwrites an existing .env. Production sets real environment variables instead.
"""
from __future__ import annotations

import secrets
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    env_file = ROOT / ".env"
    if env_file.exists():
        print(".env exists; leaving it as it is.")
        return 0
    env_file.write_text(
        "# Local development only (made by scripts/dev_env.py). See .env.example.\n"
        "DEBUG=True\n"
        f"SECRET_KEY={secrets.token_urlsafe(50)}\n"
        f"JWT_SECRET_KEY={secrets.token_urlsafe(48)}\n"
        "ALLOWED_HOSTS=localhost,127.0.0.1\n"
    )
    env_file.chmod(0o600)
    print("Wrote .env with fresh keys (DEBUG=True, SQLite, no Redis).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
