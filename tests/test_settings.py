"""The production profile and configuration errors, checked in fresh processes."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def manage(*args, **env_overrides):
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY"}}
    env.update(env_overrides)
    env = {k: v for k, v in env.items() if v is not None}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": secrets.token_urlsafe(64),
    "ALLOWED_HOSTS": "annotator.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://annotator.example.com",
}


def test_production_profile_passes_check_deploy_without_warnings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_missing_secret_key_in_production_is_a_clear_error():
    result = manage("check", **{**PRODUCTION, "SECRET_KEY": None})
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_missing_database_url_is_a_clear_error():
    result = manage("check", **{**PRODUCTION, "DATABASE_URL": None})
    assert result.returncode != 0
    assert "DATABASE_URL is not set" in result.stderr


def test_development_profile_generates_and_keeps_a_secret_key(tmp_path):
    def key_check():
        return manage(
            "shell",
            "-c",
            "from django.conf import settings; print(settings.SECRET_KEY)",
            DEBUG="1",
            VA_VAR_DIR=str(tmp_path),
        )

    first, second = key_check(), key_check()
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout and len(first.stdout.strip()) >= 50
    assert oct((tmp_path / "secret_key").stat().st_mode & 0o777) == "0o600"
