

def test_ping_answers_valid_for_any_key(ti):
    response = ti.get("/incoming/v2/ping")
    assert response.status_code == 200
    assert response.json() == {"valid": True}
