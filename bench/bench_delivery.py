"""Benchmark of the durable inbox and reply outbox: messages lost and duplicated under
faults (both must be 0), and the time to drain a backlog.

Run: `python bench/bench_delivery.py [--messages 1000] [--residents 100] [--database-url URL]`.
A backlog of N stored, unhandled messages (what a worker killed mid-turn, or a database or
provider outage, leaves behind) is drained by the real Dispatcher and FrontDesk (NLU on an
in-memory fake answering every text, the catalogue of catalog/data) through a channel that
fails like a provider in trouble: every 7th send a 5xx (Transient), every 11th a 429 with
retry_after 0.05 s. Telegram's per-chat pacing is off (it would only measure the clock).
Prints one JSON object: messages, turns handled (must equal messages), messages lost and
handled twice, replies queued, delivered, lost and delivered twice, drain seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from bot.channels import replies as reply_sender  # noqa: E402
from bot.channels.base import InboundMessage, OutboundMessage, RateLimited, Transient  # noqa: E402
from bot.channels.delivery import Dispatcher  # noqa: E402
from bot.cli.seed import seed_catalog_if_empty  # noqa: E402
from bot.context import flow_context_factory  # noqa: E402
from bot.db import inbox_repo  # noqa: E402
from bot.db.delivery_models import InboxMessage, ReplyOutbox  # noqa: E402
from bot.db.engine import create_db_engine, session_factory  # noqa: E402
from bot.db.migrate import upgrade  # noqa: E402
from bot.db.models import ConversationState  # noqa: E402
from bot.frontdesk import FrontDesk  # noqa: E402
from bot.records import TurnRecords  # noqa: E402
from bot.settings import Env, Settings, load_config  # noqa: E402
from nlu.client import NluClient  # noqa: E402
from nlu.comuni import gazetteer  # noqa: E402
from territory.model import shipped_territory  # noqa: E402

TRADATE = gazetteer(shipped_territory("tradate"))  # how its residents name places

TEXTS = ["ciao", "cerco un nido a Tradate", "ha 2 anni", "grazie", "orari?"]


class FlakyChannel:
    """Records every delivered reply; fails every 7th send (5xx) and every 11th (429)."""

    name = "telegram"

    def __init__(self) -> None:
        self.calls = 0
        self.delivered: Counter[str] = Counter()  # replies received, by resident

    def parse(self, raw: object) -> None:
        return None

    async def send(self, message: OutboundMessage) -> str:
        self.calls += 1
        if self.calls % 7 == 0:
            raise Transient("fake_502")
        if self.calls % 11 == 0:
            raise RateLimited("fake_429", 0.05)
        self.delivered[message.address] += 1
        return str(self.calls)


def rasa(request: httpx.Request) -> httpx.Response:
    if request.url.path == "/status":
        return httpx.Response(200, json={"model_file": "x"})
    ranking = [{"name": "fuori_ambito", "confidence": 0.3}]
    return httpx.Response(
        200,
        json={"intent": ranking[0], "entities": [], "intent_ranking": ranking},
    )


async def drain(dispatcher: Dispatcher, sessions: object, total: int, deadline: float) -> None:
    while time.monotonic() < deadline:
        await dispatcher.recover_once()
        await dispatcher.drain()
        with sessions() as s:  # type: ignore[operator]
            pending = s.scalar(
                select(func.count()).where(InboxMessage.handled_at.is_(None))
            ) + s.scalar(select(func.count()).where(ReplyOutbox.status == "queued"))
        if not pending:
            return
        await asyncio.sleep(0.05)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--residents", type=int, default=100)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    reply_sender.RETRY_BASE_SECONDS = 0.05
    reply_sender.RETRY_CAP_SECONDS = 0.2
    reply_sender.PACE_BURST = {}
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{tmp}/bench.db"
        upgrade(url)
        engine = create_db_engine(url)
        sessions = session_factory(engine)
        seed_catalog_if_empty(sessions, ROOT / "catalog" / "data")
        env = Env(DATABASE_URL=url, FRONTDESK_CONFIG=ROOT / "config.yml")
        settings = Settings(env=env, config=load_config(ROOT / "config.yml"))
        residents = [str(5_000_000 + i) for i in range(args.residents)]
        with sessions.begin() as s:  # the backlog
            for i in range(args.messages):
                address = residents[i % len(residents)]
                text = TEXTS[(i // len(residents)) % len(TEXTS)]
                message = InboundMessage("telegram", address, text=text, external_id=str(i))
                inbox_repo.store(s, message=message)
        channel = FlakyChannel()

        async def run() -> float:
            nlu = NluClient(
                "http://rasa.test", places=TRADATE, transport=httpx.MockTransport(rasa), retries=0
            )
            desk = FrontDesk(
                sessions=sessions,
                nlu=nlu,
                context=flow_context_factory(settings, sessions),
                records=TurnRecords(),
            )
            dispatcher = Dispatcher(desk=desk, sessions=sessions, channels={"telegram": channel})
            started = time.monotonic()
            await drain(dispatcher, sessions, args.messages, started + 600)
            elapsed = time.monotonic() - started
            await dispatcher.close()
            await nlu.aclose()
            return elapsed

        elapsed = asyncio.run(run())
        with sessions() as s:
            unhandled = s.scalar(select(func.count()).where(InboxMessage.handled_at.is_(None)))
            turns = sum(v + 1 for v in s.scalars(select(ConversationState.version)))
            statuses = Counter(s.scalars(select(ReplyOutbox.status)))
            per_inbox = Counter(s.scalars(select(ReplyOutbox.inbox_id)))
            sent_to = Counter(
                s.scalars(select(ReplyOutbox.address).where(ReplyOutbox.status == "sent"))
            )
        engine.dispose()
    print(
        json.dumps(
            {
                "messages": args.messages,
                "residents": args.residents,
                "turns_handled": turns,
                "messages_lost": unhandled + max(0, args.messages - turns - unhandled),
                "messages_handled_twice": max(0, turns - args.messages),
                "messages_without_reply": args.messages - len(per_inbox),
                "replies_queued": sum(statuses.values()),
                "replies_sent": statuses.get("sent", 0),
                "replies_lost": sum(statuses.values()) - statuses.get("sent", 0),
                "replies_delivered_twice": sum(
                    max(0, n - sent_to[a]) for a, n in channel.delivered.items()
                ),
                "provider_failures_met": channel.calls - statuses.get("sent", 0),
                "drain_seconds": round(elapsed, 2),
                "database": url.split(":", 1)[0],
            }
        )
    )


if __name__ == "__main__":
    main()
