from apps.accounts.services import get_tokens_for_user
from tests.support import bearer


def test_a_burst_of_logout_all_never_locks_the_user_out(user):
    for _ in range(8):
        session = get_tokens_for_user(user)
        assert bearer(session["access"]).post("/api/auth/logout-all/").status_code == 200
        user.refresh_from_db()

    fresh = get_tokens_for_user(user)

    assert bearer(fresh["access"]).get("/api/auth/me/").status_code == 200


def test_access_token_minted_between_two_revocations_in_one_second_dies_with_the_second(user):
    first = get_tokens_for_user(user)
    bearer(first["access"]).post("/api/auth/logout-all/")
    user.refresh_from_db()
    between = get_tokens_for_user(user)

    assert bearer(between["access"]).post("/api/auth/logout-all/").status_code == 200

    response = bearer(between["access"]).get("/api/auth/me/")
    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"
