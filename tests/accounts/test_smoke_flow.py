def test_register_login_refresh_me_logout_flow(api_client, db):
    body = {"email": "New@Example.com", "password": "Correct-Horse-42!", "tenant_name": "Acme Inc"}
    response = api_client.post("/api/auth/register/", body, format="json")
    assert response.status_code == 201, response.json()
    registered = response.json()
    assert registered["user"]["email"] == "new@example.com"
    assert registered["user"]["role"] == "owner"
    assert registered["user"]["tenant"]["slug"] == "acme-inc"

    response = api_client.post("/api/auth/refresh/", {"refresh": registered["refresh"]}, format="json")
    assert response.status_code == 200
    pair = response.json()

    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {pair['access']}")
    assert api_client.get("/api/auth/me/").json()["email"] == "new@example.com"
    response = api_client.post("/api/auth/logout/", {"refresh": pair["refresh"]}, format="json")
    assert response.status_code == 205
    response = api_client.post("/api/auth/refresh/", {"refresh": pair["refresh"]}, format="json")
    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"
