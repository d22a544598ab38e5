"""The baseline: a minimal Django project running STOCK djangorestframework-simplejwt's
TokenRefreshView with its token_blacklist app (rotation + blacklist after rotation).
Used by bench/compare.py (bench/harness.py)."""
