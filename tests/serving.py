"""A Sanic app served in the test's event loop on a free port, with an aiohttp session on it (sanic-testing
is not installed)."""

import asyncio
import contextlib
from typing import AsyncIterator

import aiohttp
from sanic import Sanic

from bot.services import free_port


@contextlib.asynccontextmanager
async def serving(app: Sanic) -> AsyncIterator[aiohttp.ClientSession]:
    """Serve `app` (its listeners run: start-up before, shut-down after) and yield a session on it."""
    port = free_port()
    server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True)
    await server.startup()
    await server.before_start()
    await server.after_start()
    try:
        async with aiohttp.ClientSession(f"http://127.0.0.1:{port}") as session:
            yield session
    finally:
        for connection in list(server.connections):  # closed by the client: let the server see it
            connection.close_if_idle()
        await asyncio.sleep(0.05)
        await server.before_stop()
        server.close()
        await server.wait_closed()
        await server.after_stop()
