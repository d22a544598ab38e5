import pytest

import devprocs as services


@pytest.fixture(scope="module")
def server_without_database():
    """The app under gunicorn with its database on a closed port (credentials in the URL, so
    tests can check they never leak)."""
    url = f"postgres://authsvc:dbs3cretpw@127.0.0.1:{services.free_port()}/authsvc"
    with services.live_server(DATABASE_URL=url, migrate=False, workers=1) as server:
        yield server
