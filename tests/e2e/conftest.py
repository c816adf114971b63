"""Starts the real system (Redis, handoff service, action server, Rasa servers behind nginx with the webhook
ingress) once for e2e tests,
with a Graph API stand-in that receives what the Messenger channel sends and a Zalo OA API stand-in for
the Zalo channel."""

import pytest
import redis
import requests

from bot.services import System
from bot.settings import PROJECT_ROOT
from common.webhook_keys import stream_key
from studio.settings import copy_content
from testkit.graph_stand_in import GraphStandIn
from testkit.local_system import local_settings
from testkit.polling import wait_for
from testkit.zalo_stand_in import ZaloStandIn
from tests.browser import headless_chromium

MODEL = PROJECT_ROOT / "models" / "senmart.tar.gz"
FB_VERIFY_TOKEN = "senmart-verify-e2e"
FB_APP_SECRET = "e2e-app-secret-0f3a"
FB_PAGE_ACCESS_TOKEN = "EAAG-e2e-page-token"
# the shop's website signs its signed-in customers with it (bot/channels/identity.py)
CUSTOMER_IDENTITY_SECRET = "customer-identity-secret-for-tests"
STUDIO_TOKEN = "content-e2e-7d1f"
ZALO_OA_SECRET_KEY = "e2e-zalo-oa-secret-9b2c"


@pytest.fixture(scope="session")
def graph():
    """The Graph API stand-in the Messenger channel sends to (`graph.sent`, `.fail_next`, `.wait_for`)."""
    stand_in = GraphStandIn().start()
    yield stand_in
    stand_in.stop()


@pytest.fixture(scope="session")
def zalo():
    """The Zalo OA API stand-in (send API and OAuth) the Zalo channel talks to."""
    stand_in = ZaloStandIn().start()
    yield stand_in
    stand_in.stop()


@pytest.fixture(scope="session")
def system(tmp_path_factory, graph, zalo):
    """The running system; `system.rasa_url`, `.handoff_url`, `.admin_token`, `.service_token`; the studio
    edits `system.content_dir` (a copy), content token `STUDIO_TOKEN`."""
    if not MODEL.exists():
        pytest.fail(f"no trained model at {MODEL}; run `make train` (make test does it)")
    content = copy_content(tmp_path_factory.mktemp("content"))
    settings = local_settings(
        redis_url=None,
        var_dir=tmp_path_factory.mktemp("var"),
        model_path=MODEL,
        rasa_workers=2,  # several workers, as `make run` starts on this 2-core machine (test_workers.py)
        lock_ttl_seconds=5.0,  # the crash bound test_workers.py measures
        extra_env={
            "HANDOFF_AGENT_TOKENS": "lan:token-lan,minh:token-minh",
            "FB_VERIFY_TOKEN": FB_VERIFY_TOKEN,
            "FB_APP_SECRET": FB_APP_SECRET,
            "FB_PAGE_ACCESS_TOKEN": FB_PAGE_ACCESS_TOKEN,
            "FB_GRAPH_URL": graph.url,
            "ZALO_APP_ID": zalo.app_id,
            "ZALO_APP_SECRET": zalo.app_secret,
            "ZALO_OA_SECRET_KEY": ZALO_OA_SECRET_KEY,
            "ZALO_ACCESS_TOKEN": zalo.access_token,
            "ZALO_REFRESH_TOKEN": zalo.refresh_token,
            "ZALO_API_URL": zalo.url,
            "ZALO_OAUTH_URL": zalo.url,
            "STUDIO_CONTENT_DIR": str(content),
            "STUDIO_TOKENS": f"content:{STUDIO_TOKEN}",
            "PROMOTIONS_FILE": str(content / "data" / "promotions.yml"),
            "CUSTOMER_IDENTITY_SECRET": CUSTOMER_IDENTITY_SECRET,
            # webhook queue: a dead process's events are taken over after 3 s; 3 attempts 0.5 s apart
            "WEBHOOK_RECLAIM_SECONDS": "3",
            "WEBHOOK_ATTEMPTS": "3",
            "WEBHOOK_BACKOFF_SECONDS": "0.5",
        },
    )
    with System(settings) as running:
        running.content_dir = content
        yield running


@pytest.fixture(scope="module")
def driver():
    """Headless Chromium for the page tests (browser and performance logs kept)."""
    with headless_chromium(log_types=("browser", "performance")) as browser:
        yield browser


def tracker(system, sender_id):
    """The conversation's tracker as Rasa's HTTP API gives it."""
    response = requests.get(
        f"{system.rasa_url}/conversations/{sender_id}/tracker",
        params={"token": system.rasa_auth_token},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return response.json()


def api(system, method, path, **kwargs):
    """A call of the staff service's agent API as the admin agent."""
    headers = {"Authorization": f"Bearer {system.admin_token}"}
    return requests.request(method, system.handoff_url + path, headers=headers, timeout=30, **kwargs)


def settled(system, channel):
    """Wait until the channel's webhook queue has answered (or dead-lettered) every event it took."""
    client = redis.Redis(host=system.redis.host, port=system.redis.port)
    try:
        wait_for(lambda: client.xlen(stream_key(channel)) == 0, timeout=60)
    finally:
        client.close()


def ingress_accepted(system, channel):
    """How many events of the channel the webhook ingress queued since it started (its /health)."""
    response = requests.get(f"{system.ingress_url}/health", timeout=10)
    assert response.status_code == 200, response.text
    return response.json()["channels"][channel]["accepted"]
