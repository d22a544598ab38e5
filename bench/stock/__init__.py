"""The baseline: a minimal Django project running STOCK djangorestframework-simplejwt's
TokenRefreshView with its token_blacklist app (rotation + blacklist after rotation).
Only bench/refresh_path.py uses it."""
