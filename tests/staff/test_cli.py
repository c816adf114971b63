"""`python -m staff users …`: the first admin once, with a one-time password printed only to the terminal."""

import json
import os
import subprocess
import sys

from handoff.settings import PROJECT_ROOT


def users(redis_url, *args):
    env = {**os.environ, "REDIS_URL": redis_url, "PYTHONPATH": str(PROJECT_ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "staff", "users", *args], env=env, capture_output=True, text=True, timeout=60
    )


def test_bootstrap_creates_the_first_admin_once(redis_server, redis_client):
    url = redis_server.url
    first = users(url, "bootstrap", "--json")
    assert first.returncode == 0, first.stderr
    made = json.loads(first.stdout)
    assert made["created"] is True and made["email"] == "admin@senmart.local" and len(made["password"]) >= 16
    assert made["password"] not in first.stderr
    again = json.loads(users(url, "bootstrap", "--json").stdout)
    assert again == {"created": False, "email": "admin@senmart.local", "password": None}
    listed = users(url, "list").stdout
    assert "admin@senmart.local" in listed and "admin" in listed and made["password"] not in listed
    user_id = redis_client.get("senmart:staff:email:admin@senmart.local")
    stored = redis_client.hgetall(f"senmart:staff:user:{user_id}")
    assert stored["must_change"] == "1" and stored["name"] == "Quản trị SenMart"
    assert stored["password"].startswith("$argon2id$") and made["password"] not in str(stored)
    created = users(url, "create", "Lan", "lan@senmart.local", "agent")
    assert created.returncode == 0 and "lan@senmart.local (agent): one-time password" in created.stdout
    reset = users(url, "reset-password", "LAN@senmart.local")
    assert reset.returncode == 0 and "one-time password" in reset.stdout
    assert users(url, "reset-password", "nobody@senmart.local").returncode == 1
