"""The floor for bench/http.py: Django answering constant JSON, no auth, no database."""
