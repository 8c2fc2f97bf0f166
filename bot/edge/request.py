"""Bot API requests over aiohttp with orjson: a cheaper python-telegram-bot `BaseRequest`.

python-telegram-bot sends every request through a `BaseRequest`; its default, `HTTPXRequest`,
form-encodes each parameter (objects as JSON strings) and parses answers with the standard
library's json. `AiohttpRequest` does the same job with the aiohttp client the project already
has for its webhook and sandbox, and orjson both ways: a request without files goes out as one
JSON body (`orjson.dumps` of the parameters), a request with files as multipart/form-data, the
way `RequestData` hands them over (parameters as their JSON strings, each file as a part). What
was measured against httpx: bench/README.md.

Timeouts keep python-telegram-bot's meaning: `pool_timeout` bounds the wait for one of the
`connection_pool_size` connections (then `TimedOut`, and the request was not sent),
`connect_timeout` the connecting, `read_timeout` the wait for each piece of the answer;
aiohttp has no write timeout, so `write_timeout` (or `media_write_timeout` for uploads) goes into
a ceiling on the whole request: connect + write + read, when all three are finite. Errors are
python-telegram-bot's: a timeout is `TimedOut`, any other client failure `NetworkError`; HTTP
status codes are turned into `BadRequest`, `Forbidden`, `RetryAfter` ... by `BaseRequest`.

`telegram.request` in the config picks it ("aiohttp", the default) or python-telegram-bot's own
("httpx"); see `make_request`.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import orjson
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import JSONDict, ODVInput
from telegram.error import NetworkError, TelegramError, TimedOut
from telegram.request import BaseRequest, HTTPXRequest, RequestData

REQUEST_KINDS = ("aiohttp", "httpx")
_JSON_HEADERS = {"Content-Type": "application/json"}


class AiohttpRequest(BaseRequest):
    """A python-telegram-bot request class on one pooled aiohttp session."""

    __slots__ = (
        "_connect_timeout",
        "_media_write_timeout",
        "_pool",
        "_pool_size",
        "_pool_timeout",
        "_read_timeout",
        "_session",
        "_write_timeout",
    )

    def __init__(
        self,
        connection_pool_size: int = 256,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        media_write_timeout: float | None = 20.0,
    ) -> None:
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._media_write_timeout = media_write_timeout
        self._session: aiohttp.ClientSession | None = None
        self._pool: asyncio.Semaphore | None = None

    @property
    def read_timeout(self) -> float | None:
        """The default read timeout in seconds."""
        return self._read_timeout

    async def initialize(self) -> None:
        """Open the session (once; again after a shutdown)."""
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._pool_size, limit_per_host=0)
            self._session = aiohttp.ClientSession(
                connector=connector,
                headers={"User-Agent": self.USER_AGENT},
                timeout=aiohttp.ClientTimeout(total=None),
            )
            self._pool = asyncio.Semaphore(self._pool_size)

    async def shutdown(self) -> None:
        """Close the session and its connections."""
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    @staticmethod
    def parse_json_payload(payload: bytes) -> JSONDict:
        """Parse an answer with orjson; what orjson refuses goes the standard library's way.

        The standard way decodes with errors="replace" (orjson refuses invalid UTF-8) and turns
        what it cannot parse into a `TelegramError`, as python-telegram-bot expects.
        """
        try:
            parsed = orjson.loads(payload)
        except orjson.JSONDecodeError:
            return BaseRequest.parse_json_payload(payload)
        if not isinstance(parsed, dict):
            raise TelegramError("Invalid server response")
        return parsed

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """One HTTP request; (status, body), or TimedOut / NetworkError."""
        session, pool = self._session, self._pool
        if session is None or session.closed or pool is None:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        files = request_data.multipart_data if request_data is not None else None
        read = self._read_timeout if isinstance(read_timeout, DefaultValue) else read_timeout
        connect = (
            self._connect_timeout if isinstance(connect_timeout, DefaultValue) else connect_timeout
        )
        waiting = self._pool_timeout if isinstance(pool_timeout, DefaultValue) else pool_timeout
        if isinstance(write_timeout, DefaultValue):
            write = self._media_write_timeout if files else self._write_timeout
        else:
            write = write_timeout
        total = (
            connect + write + read
            if connect is not None and write is not None and read is not None
            else None
        )
        timeout = aiohttp.ClientTimeout(total=total, sock_connect=connect, sock_read=read)
        kwargs: dict[str, Any] = {"timeout": timeout}
        if request_data is not None:
            if files:
                form = aiohttp.FormData()
                for name, value in request_data.json_parameters.items():
                    form.add_field(name, value)
                for name, (filename, content, mime) in files.items():
                    form.add_field(name, content, filename=filename, content_type=mime)
                kwargs["data"] = form
            else:
                kwargs["data"] = orjson.dumps(request_data.parameters)
                kwargs["headers"] = _JSON_HEADERS

        try:
            async with asyncio.timeout(waiting):
                await pool.acquire()
        except TimeoutError as exc:
            raise TimedOut(
                "Pool timeout: All connections in the connection pool are occupied. Request was "
                "*not* sent to Telegram. Consider adjusting the connection pool size or the pool "
                "timeout."
            ) from exc
        try:
            async with session.request(method, url, **kwargs) as response:
                return response.status, await response.read()
        except (TimeoutError, aiohttp.ServerTimeoutError) as exc:
            raise TimedOut from exc
        except aiohttp.ClientError as exc:
            raise NetworkError(f"aiohttp.{type(exc).__name__}: {exc}") from exc
        finally:
            pool.release()


def make_request(
    kind: str,
    *,
    connection_pool_size: int = 256,
    read_timeout: float | None = 5.0,
    write_timeout: float | None = 5.0,
    connect_timeout: float | None = 5.0,
    pool_timeout: float | None = 1.0,
) -> BaseRequest:
    """The request class the config names ("aiohttp" or "httpx"), with these settings."""
    if kind == "httpx":
        return HTTPXRequest(
            connection_pool_size=connection_pool_size,
            read_timeout=read_timeout,
            write_timeout=write_timeout,
            connect_timeout=connect_timeout,
            pool_timeout=pool_timeout,
        )
    if kind == "aiohttp":
        return AiohttpRequest(
            connection_pool_size=connection_pool_size,
            read_timeout=read_timeout,
            write_timeout=write_timeout,
            connect_timeout=connect_timeout,
            pool_timeout=pool_timeout,
        )
    raise ValueError(f"unknown request kind {kind!r}; use one of {REQUEST_KINDS}")
