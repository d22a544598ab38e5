"""The baseline: a minimal Django project running STOCK djangorestframework-simplejwt's
TokenRefreshView with its token_blacklist app (rotation + blacklist after rotation).
Used by bench/refresh_path.py and bench/http.py."""
