import pytest

UNREACHABLE_REDIS = "redis://127.0.0.1:9/0"  # discard port: nothing listens there


@pytest.mark.django_db
def test_healthz_ok_when_all_services_are_up(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["down"] == []
    assert set(body["checks"]) == {"database", "broker", "channel_layer"}


@pytest.mark.django_db
def test_healthz_names_the_broker_when_it_is_down(client, settings):
    settings.CELERY_BROKER_URL = UNREACHABLE_REDIS
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["down"] == ["broker"]
    assert body["checks"]["database"]["ok"] and body["checks"]["channel_layer"]["ok"]
    assert "Error" in body["checks"]["broker"]["error"]


@pytest.mark.django_db
def test_healthz_names_the_channel_layer_when_it_is_down(client, settings):
    settings.CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [UNREACHABLE_REDIS]}}
    }
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["down"] == ["channel_layer"]


def test_healthz_names_the_database_when_it_is_down(client, monkeypatch, django_db_blocker):
    """Point the connection at a socket where no server listens: the check must report it."""
    from django.db import connection

    monkeypatch.setitem(connection.settings_dict, "HOST", "/nonexistent-socket-dir")
    connection.close()
    with django_db_blocker.unblock():
        try:
            response = client.get("/healthz")
        finally:
            connection.close()
    assert response.status_code == 503
    body = response.json()
    assert body["down"] == ["database"]
    assert "OperationalError" in body["checks"]["database"]["error"]
