from tests.conftest import ADMIN, P, bearer


def test_token_round_trip(app, create_token):
    token = create_token(tokenDescription="smoke")["plainTextToken"]
    me = app.get("/rest/api/2/myself", headers=bearer(token), status=200).json
    assert me["key"] == "admin"
    app.get(f"{P}/user/token", headers=ADMIN, status=200)
