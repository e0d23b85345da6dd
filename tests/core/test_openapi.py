from openapi_spec_validator import validate


def test_openapi_document_is_valid(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = response.get_json()
    validate(spec)
    assert "/api/v1/me" in spec["paths"]
    assert "bearerAuth" in spec["components"]["securitySchemes"]


def test_api_errors_have_one_shape(client):
    body = client.get("/api/v1/me").get_json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == "unauthorized"
    assert body["error"]["message"]
    invalid = client.get("/api/v1/regions?level=planet")
    assert invalid.status_code == 422
    assert invalid.get_json()["error"]["code"] == "validation_failed"
    assert "level" in invalid.get_json()["error"]["details"]["query"]
