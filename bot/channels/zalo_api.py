"""Clients of Zalo's Official Account APIs: the CS message send API and the OAuth token refresh, with the
OA's tokens kept in Redis for every worker and process.

Send: `POST {ZALO_API_URL}/v3.0/oa/message/cs`, header `access_token`, JSON `{"recipient": {"user_id"},
"message": {...}}`; Zalo answers HTTP 200 with `{"error": 0, "data": {"message_id"}}` or a negative code
(zaloplatform/zalo-java-sdk, src/test/java/v3/SendTextCSMessage.java). Refresh: `POST
{ZALO_OAUTH_URL}/v4/oa/access_token`, header `secret_key`, form `app_id`, `grant_type=refresh_token`,
`refresh_token` → `{"access_token", "refresh_token", "expires_in"}` (GetAccessTokenByRefreshToken.java).
An access token lasts about 25 h; a refresh token about 3 months and only once: two workers refreshing
with the same one lose it. Hence one refresher at a time (a Redis lock), the rotated pair saved to Redis
before the new access token is used, and the others waiting for it.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import time
import uuid
from typing import Any, Callable, Dict, Optional, Text

import aiohttp
import redis.asyncio as aioredis
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

DEFAULT_API_URL = "https://openapi.zalo.me"
DEFAULT_OAUTH_URL = "https://oauth.zaloapp.com"
SEND_PATH = "/v3.0/oa/message/cs"
TOKEN_PATH = "/v4/oa/access_token"
INVALID_TOKEN = -216  # access token invalid or expired: refresh once, then retry once
USER_INACTIVE = -230  # the user has not interacted with the OA for 7 days: no CS message allowed
RATE_LIMITED = frozenset({-32})  # retried with back-off like HTTP 429
TOKEN_KEY = "senmart:zalo:token"
LOCK_KEY = "senmart:zalo:token:lock"
LOCK_MS = 30_000  # longer than one OAuth call (timeout 10 s); a crashed refresher frees it by then
REFRESH_MARGIN_SECONDS = 3600  # refresh proactively when less than this remains
REFRESH_TOKEN_SECONDS = 90 * 86_400  # about 3 months (informational: Zalo says when it is used up)
DEFAULT_EXPIRES_IN = 90_000  # 25 h, when Zalo's answer does not say
RELEASE_SCRIPT = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
# seeds the tokens from the environment unless Redis holds the chain grown from this very seed
# ARGV: fingerprint of the env tokens, access token, refresh token, now
SEED_SCRIPT = """
if redis.call('HGET', KEYS[1], 'seed') == ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'access_token', ARGV[2], 'access_expires_at', '0', 'refresh_token', ARGV[3],
  'seed', ARGV[1], 'updated_at', ARGV[4])
return 1
"""


class ZaloError(RuntimeError):
    """Zalo did not accept a request (after the retries that were safe to make)."""

    def __init__(
        self,
        message: Text,
        code: Optional[int] = None,
        status: Optional[int] = None,
        retryable: bool = False,
        maybe_delivered: bool = False,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.status = status
        self.retryable = retryable  # a later try may succeed (rate limit, 5xx, Zalo unreachable)
        self.maybe_delivered = maybe_delivered  # the request may have reached Zalo (read timeout)


class ZaloTokenError(ZaloError):
    """No usable access token: the refresh failed or no refresh token is known."""


def _code(answer: Any) -> int:
    """Zalo's `error` field as an int (0 when absent)."""
    try:
        return int(answer.get("error") or 0) if isinstance(answer, dict) else -1
    except (TypeError, ValueError):
        return -1


class ZaloOAuthClient:
    """`POST /v4/oa/access_token` with a refresh token. Never retried once the request may have gone out:
    Zalo may have used the single-use refresh token already."""

    def __init__(self, app_id: Text, app_secret: Text, oauth_url: Optional[Text] = None, timeout: float = 10):
        self.app_id = app_id
        self.app_secret = app_secret
        self.oauth_url = (oauth_url or os.environ.get("ZALO_OAUTH_URL") or DEFAULT_OAUTH_URL).rstrip("/")
        self.timeout = aiohttp.ClientTimeout(total=timeout)

    async def refresh(self, refresh_token: Text) -> Dict[Text, Any]:
        """The new `{"access_token", "refresh_token", "expires_in"}`; ZaloTokenError otherwise."""
        form = {"app_id": self.app_id, "grant_type": "refresh_token", "refresh_token": refresh_token}
        try:
            async with aiohttp.ClientSession(timeout=self.timeout) as session:
                async with session.post(
                    self.oauth_url + TOKEN_PATH, data=form, headers={"secret_key": self.app_secret}
                ) as response:
                    status = response.status
                    try:
                        answer = await response.json(content_type=None)
                    except ValueError:
                        answer = {}
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            raise ZaloTokenError(f"token refresh failed: {type(error).__name__}") from None
        if status >= 300 or not isinstance(answer, dict) or not answer.get("access_token"):
            code = _code(answer)
            name = str(answer.get("error_name") or answer.get("message") or "")[:100] if answer else ""
            raise ZaloTokenError(f"token refresh refused: HTTP {status}, error {code} {name}".strip(), code)
        return answer


class ZaloTokenStore:
    """The OA's access and refresh tokens in a Redis hash (TOKEN_KEY) shared by every worker."""

    def __init__(
        self,
        redis: Callable[[], aioredis.Redis],
        oauth: ZaloOAuthClient,
        seed_access_token: Text = "",
        seed_refresh_token: Text = "",
        clock: Callable[[], float] = time.time,
        wait_seconds: float = 20.0,
    ) -> None:
        self._redis = redis
        self.oauth = oauth
        self.seed_access_token = seed_access_token or ""
        self.seed_refresh_token = seed_refresh_token or ""
        self.clock = clock
        self.wait_seconds = wait_seconds
        self._seeded = False

    @property
    def redis(self) -> aioredis.Redis:
        """The Redis client (the channel's)."""
        return self._redis()

    async def seed(self) -> bool:
        """Write the env tokens into Redis once, unless Redis holds what grew from the same env values (a
        rotated pair is newer than the env); True when they were written."""
        if self._seeded or not (self.seed_access_token or self.seed_refresh_token):
            return False
        material = f"{self.seed_access_token}\n{self.seed_refresh_token}".encode("utf-8")
        fingerprint = hashlib.sha256(material).hexdigest()[:32]
        written = await self.redis.eval(
            SEED_SCRIPT,
            1,
            TOKEN_KEY,
            fingerprint,
            self.seed_access_token,
            self.seed_refresh_token,
            f"{self.clock():.3f}",
        )
        self._seeded = True
        if written:
            logger.info("Zalo tokens seeded from ZALO_ACCESS_TOKEN / ZALO_REFRESH_TOKEN.")
        return bool(written)

    async def state(self) -> Dict[Text, Text]:
        """The stored fields (access_token, access_expires_at, refresh_token, refresh_expires_at, …)."""
        await self.seed()
        return await self.redis.hgetall(TOKEN_KEY)

    def _remaining(self, state: Dict[Text, Text]) -> Optional[float]:
        """Seconds the stored access token has left; None when unknown (seeded from the env)."""
        expires_at = float(state.get("access_expires_at") or 0)
        return expires_at - self.clock() if expires_at else None

    def _usable(self, state: Dict[Text, Text], rejected: Optional[Text]) -> bool:
        """Whether the stored access token may be used without refreshing."""
        if not state.get("access_token") or state.get("access_token") == rejected:
            return False
        remaining = self._remaining(state)
        return remaining is None or remaining > REFRESH_MARGIN_SECONDS

    async def access_token(self) -> Text:
        """A usable access token, refreshed first when less than an hour is left."""
        state = await self.state()
        if self._usable(state, None):
            return state["access_token"]
        return await self.refresh()

    async def refresh(self, rejected: Optional[Text] = None) -> Text:
        """A new access token (`rejected`: the one Zalo just refused). One worker calls OAuth, holding the
        lock; the others wait until the stored token changed, then use it."""
        deadline = self.clock() + self.wait_seconds
        while True:
            state = await self.state()
            if self._usable(state, rejected):
                return state["access_token"]
            owner = uuid.uuid4().hex
            if await self.redis.set(LOCK_KEY, owner, nx=True, px=LOCK_MS):
                try:
                    return await self._refresh_locked(rejected)
                finally:
                    await self.redis.eval(RELEASE_SCRIPT, 1, LOCK_KEY, owner)
            remaining = self._remaining(state)
            if rejected is None and state.get("access_token") and remaining is not None and remaining > 0:
                return state["access_token"]  # still valid: another worker is refreshing it
            if self.clock() > deadline:
                raise ZaloTokenError("no new Zalo access token: another worker's refresh did not finish")
            await asyncio.sleep(0.1)

    async def _refresh_locked(self, rejected: Optional[Text]) -> Text:
        state = await self.redis.hgetall(TOKEN_KEY)  # again, now that no one else refreshes
        if self._usable(state, rejected):
            return state["access_token"]
        refresh_token = state.get("refresh_token")
        if not refresh_token:
            raise ZaloTokenError("no Zalo refresh token: set ZALO_REFRESH_TOKEN")
        answer = await self.oauth.refresh(refresh_token)
        now = self.clock()
        fields = {
            "access_token": str(answer["access_token"]),
            "access_expires_at": f"{now + float(answer.get('expires_in') or DEFAULT_EXPIRES_IN):.3f}",
            # Zalo always rotates it; should an answer lack one, the old one is kept
            "refresh_token": str(answer.get("refresh_token") or refresh_token),
            "refresh_expires_at": f"{now + REFRESH_TOKEN_SECONDS:.3f}",
            "updated_at": f"{now:.3f}",
        }
        for attempt in range(3):
            try:  # saved before the new access token is used: the old refresh token is spent now
                await self.redis.hset(TOKEN_KEY, mapping=fields)
                break
            except RedisError:
                if attempt == 2:
                    logger.critical(
                        "The rotated Zalo refresh token could not be saved to Redis; the OA must be "
                        "authorised again (new ZALO_REFRESH_TOKEN) if this process stops."
                    )
                    raise
                await asyncio.sleep(0.2 * (attempt + 1))
        hours = (float(fields["access_expires_at"]) - now) / 3600
        logger.info("Zalo access token refreshed (valid %.0f h).", hours)
        return fields["access_token"]


class ZaloSendClient:
    """POSTs CS messages with retry and exponential back-off on connection errors, 5xx and rate limits;
    on an invalid access token one refresh and one retry; no retry once a request may have reached Zalo."""

    def __init__(
        self,
        tokens: ZaloTokenStore,
        api_url: Optional[Text] = None,
        timeout: float = 10,
        attempts: int = 4,
        backoff: float = 0.5,
        max_backoff: float = 5.0,
    ) -> None:
        self.tokens = tokens
        self.api_url = (api_url or os.environ.get("ZALO_API_URL") or DEFAULT_API_URL).rstrip("/")
        self.timeout = aiohttp.ClientTimeout(total=timeout, connect=min(5.0, timeout))
        self.attempts = max(1, attempts)
        self.backoff = backoff
        self.max_backoff = max_backoff

    async def send(self, user_id: Text, message: Dict[Text, Any]) -> Dict[Text, Any]:
        """Send one message to a Zalo user id; Zalo's answer (`data.message_id`) or ZaloError."""
        body = {"recipient": {"user_id": user_id}, "message": message}
        token = await self.tokens.access_token()
        refreshed, attempt, problem = False, 0, ""
        async with aiohttp.ClientSession(timeout=self.timeout) as session:
            while True:
                attempt += 1
                try:
                    async with session.post(
                        self.api_url + SEND_PATH, json=body, headers={"access_token": token}
                    ) as response:
                        status = response.status
                        try:
                            answer = await response.json(content_type=None)
                        except ValueError:
                            answer = None
                except aiohttp.ClientConnectorError as error:  # not connected: nothing went out
                    status, answer, problem = None, None, f"connection failed: {type(error).__name__}"
                except (aiohttp.ClientError, asyncio.TimeoutError) as error:
                    raise ZaloError(
                        f"send failed after it may have reached Zalo: {type(error).__name__}",
                        maybe_delivered=True,
                    ) from None
                code = _code(answer) if status is not None and status < 300 else None
                if code == 0:
                    return answer
                if code == INVALID_TOKEN and not refreshed:
                    refreshed = True
                    attempt -= 1  # the retry with the new token is not a back-off attempt
                    token = await self.tokens.refresh(rejected=token)
                    continue
                if status is not None:
                    problem = f"HTTP {status}, Zalo error {code}"
                    if code == USER_INACTIVE:
                        raise ZaloError("user has not interacted for 7 days (-230)", code, status)
                    if not (status == 429 or status >= 500 or code in RATE_LIMITED):
                        detail = str((answer or {}).get("message") or "")[:200] if answer else ""
                        raise ZaloError(f"Zalo refused the message: {problem} {detail}".strip(), code, status)
                if attempt >= self.attempts:
                    raise ZaloError(f"send failed after {attempt} attempts: {problem}", code, status, True)
                delay = min(self.backoff * (2 ** (attempt - 1)), self.max_backoff)
                logger.warning("Zalo send attempt %d failed (%s); retrying in %.1fs", attempt, problem, delay)
                await asyncio.sleep(delay)
