"""The HTTP client the app uses to ask the Rasa server what a message means.

Never raises to the caller: Rasa down, slow or answering garbage becomes
`ParseStatus.UNAVAILABLE`; a weak guess becomes `ParseStatus.LOW_CONFIDENCE`. The
deterministic safety net for `emergenza` runs on every message, Rasa or not.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx
from pydantic import BaseModel, ValidationError
from tenacity import (
    AsyncRetrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
)

from nlu.comuni import Gazetteer
from nlu.entities import normalise_entities
from nlu.long_messages import request_sentences, vote
from nlu.safety import is_emergency
from nlu.types import ParseResult, ParseStatus

log = logging.getLogger(__name__)

EMERGENCY = "emergenza"
MAX_TEXT = 2000  # Rasa's tokenizers get slow on huge inputs; nobody writes more on a phone


class _Intent(BaseModel):
    name: str | None = None
    confidence: float = 0.0


class _RasaParse(BaseModel):
    intent: _Intent = _Intent()
    entities: list[dict[str, Any]] = []
    intent_ranking: list[_Intent] = []

    def ranking(self) -> list[tuple[str, float]]:
        ranked = self.intent_ranking or [self.intent]
        return [(i.name or "", i.confidence) for i in ranked[:5]]


def _retryable(exc: BaseException) -> bool:
    if isinstance(exc, httpx.HTTPStatusError):
        return exc.response.status_code >= 500
    return isinstance(exc, httpx.TransportError)


class NluClient:
    """Async client of Rasa's `/model/parse`.

    Args:
        base_url: Rasa server, e.g. http://127.0.0.1:5005.
        token: Rasa's `--auth-token`, sent as the `token` query parameter.
        timeout: seconds for each attempt.
        retries: extra attempts on connection errors and 5xx.
        threshold: below this confidence the result is LOW_CONFIDENCE.
        places: how the territory names its comuni (`nlu.comuni.gazetteer`).
        transport: an httpx transport (tests use MockTransport).
    """

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        timeout: float = 3.0,
        retries: int = 2,
        threshold: float = 0.55,
        places: Gazetteer,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._places = places
        self._params = {"token": token} if token else {}
        self._retries = retries
        self.threshold = threshold
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"), timeout=timeout, transport=transport
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> NluClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def parse(self, text: str) -> ParseResult:
        """Understands one message; see the module docstring for the outcomes."""
        text = text.strip()[:MAX_TEXT]
        raw = await self._post_parse(text)
        if raw is not None and raw.intent.name != EMERGENCY:
            raw = await self._with_requests(text, raw)
        if raw is None:
            result = ParseResult(
                text=text,
                intent=None,
                confidence=0.0,
                entities=normalise_entities(text, [], self._places),
                status=ParseStatus.UNAVAILABLE,
            )
        else:
            result = self._to_result(text, raw)
        if is_emergency(text) and result.intent != EMERGENCY:
            # The safety net wins: missing a person in danger costs more than a false alarm.
            return ParseResult(
                text=text,
                intent=EMERGENCY,
                confidence=1.0,
                entities=result.entities,
                status=ParseStatus.OK,
                ranking=result.ranking,
            )
        return result

    async def is_ready(self) -> bool:
        """True when the server answers and has a model loaded."""
        try:
            resp = await self._http.get("/status", params=self._params)
            return resp.status_code == 200 and bool(resp.json().get("model_file"))
        except (httpx.HTTPError, ValueError):
            return False

    async def _post_parse(self, text: str) -> _RasaParse | None:
        try:
            async for attempt in AsyncRetrying(
                stop=stop_after_attempt(self._retries + 1),
                wait=wait_exponential(multiplier=0.1, max=1.0),
                retry=retry_if_exception(_retryable),
                reraise=True,
            ):
                with attempt:
                    resp = await self._http.post(
                        "/model/parse", params=self._params, json={"text": text}
                    )
                    resp.raise_for_status()
                    return _RasaParse.model_validate(resp.json())
        except (httpx.HTTPError, ValueError, ValidationError) as exc:
            # ValueError covers a non-JSON body; the text itself is never logged (privacy).
            log.warning("NLU unavailable: %s", exc.__class__.__name__)
        return None

    async def _with_requests(self, text: str, raw: _RasaParse) -> _RasaParse:
        """A long message's intent voted with its request sentences (nlu.long_messages)."""
        asks = request_sentences(text)
        if not asks:
            return raw
        readings = await asyncio.gather(*(self._post_parse(s) for s in asks))
        voted = vote([raw.ranking(), *(r.ranking() for r in readings if r is not None)])
        ranking = [_Intent(name=name, confidence=conf) for name, conf in voted]
        return raw.model_copy(update={"intent": ranking[0], "intent_ranking": ranking})

    def _to_result(self, text: str, raw: _RasaParse) -> ParseResult:
        confidence = float(raw.intent.confidence)
        status = ParseStatus.OK if confidence >= self.threshold else ParseStatus.LOW_CONFIDENCE
        return ParseResult(
            text=text,
            intent=raw.intent.name,
            confidence=confidence,
            entities=normalise_entities(text, raw.entities, self._places),
            status=status,
            ranking=tuple(raw.ranking()),
        )
