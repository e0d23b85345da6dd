def test_healthz_answers_without_the_database(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}


def test_readyz_reports_database_and_broker(client):
    response = client.get("/readyz")
    body = response.get_json()
    assert response.status_code == 200, body
    assert body["status"] == "ready"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["broker"]["ok"] is True


def test_readyz_says_unavailable_when_the_broker_is_down(app, client):
    celery_app = app.extensions["celery"]
    original = celery_app.conf.broker_url, celery_app.conf.broker_write_url
    # Port 9 on loopback has no listener: the broker check must fail, not hang or 500.
    celery_app.conf.broker_url = celery_app.conf.broker_write_url = "redis://127.0.0.1:9/0"
    try:
        response = client.get("/readyz")
    finally:
        celery_app.conf.broker_url, celery_app.conf.broker_write_url = original
    assert response.status_code == 503
    assert response.get_json()["checks"]["broker"]["ok"] is False


def test_every_response_carries_a_request_id(client):
    response = client.get("/healthz", headers={"X-Request-ID": "abcdef0123456789"})
    assert response.headers["X-Request-ID"] == "abcdef0123456789"
    assert len(client.get("/healthz").headers["X-Request-ID"]) == 32


def test_one_log_line_per_request_without_query_string(client, caplog):
    caplog.set_level("INFO", logger="marketplace.access")
    client.get("/healthz?phone=13812345678")
    lines = [r.getMessage() for r in caplog.records if r.name == "marketplace.access"]
    assert len(lines) == 1
    assert lines[0].startswith("GET /healthz 200")
    assert "13812345678" not in lines[0]
