"""Benchmark of campaign sending: N recipients through the fake Telegram and Twilio servers.

Run: `python bench/bench_campaigns.py [--recipients 10000] [--database-url URL]`.
The real `frontdesk campaign send` runs as a child process against fake APIs on loopback,
at the rates of config.yml, both channels at once (recipients split in proportion to the
rates, so that both finish together). Prints one JSON object: per channel the achieved
average rate / configured rate and the busiest sliding one-second window, both where the
fake server received the requests and where the sender's pacer released them (what the
pacer controls; on a loaded machine the network path adds jitter); duplicates (must be 0);
the sender's peak RSS and CPU time.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml
from sqlalchemy import insert, select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.db.campaign_models import Subscriber, Subscription  # noqa: E402
from bot.db.engine import create_db_engine  # noqa: E402
from bot.db.migrate import upgrade  # noqa: E402
from tests.campaigns.test_pacing import busiest_window  # noqa: E402
from tests.channels.fakes import (  # noqa: E402
    ACCOUNT_SID,
    AUTH_TOKEN,
    TOKEN,
    FakeTelegram,
    FakeTwilio,
    ServerThread,
)

FRONTDESK = str(Path(sys.executable).with_name("frontdesk"))

# The sender child: the real CLI, with each channel's pacer recording the instants it
# released a send (monotonic, like the fake servers' clock), written out at exit.
SENDER = """
import atexit, json, os, sys, time
from bot.campaigns import sender
released = {}
make = sender.pacers

def pacers(config):
    made = make(config)
    for name, pacer in made.items():
        times = released.setdefault(name, [])
        wait = pacer.wait
        async def recorded(wait=wait, times=times):
            await wait()
            times.append(time.monotonic())
        pacer.wait = recorded
    return made

sender.pacers = pacers
atexit.register(lambda: open(os.environ["BENCH_RELEASED"], "w").write(json.dumps(released)))
from bot.cli.main import app
sys.argv[0] = "frontdesk"
sys.exit(app())
"""


def seed(url: str, telegram: int, whatsapp: int) -> None:
    """Opted-in subscribers, inserted in bulk (the import path has its own tests)."""
    upgrade(url)
    engine = create_db_engine(url)
    rows = [{"channel": "telegram", "address": str(10_000_000 + i)} for i in range(telegram)]
    rows += [{"channel": "whatsapp", "address": f"whatsapp:+39333{i:07d}"} for i in range(whatsapp)]
    with engine.begin() as conn:
        conn.execute(insert(Subscriber), [r | {"active": True} for r in rows])
        ids = conn.scalars(select(Subscriber.id)).all()
        conn.execute(insert(Subscription), [{"subscriber_id": i, "topic": "novita"} for i in ids])
    engine.dispose()


def frontdesk(env: dict[str, str], *args: str, paced: bool = False) -> dict[str, object]:
    command = [sys.executable, "-c", SENDER, *args] if paced else [FRONTDESK, *args]
    done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"frontdesk {' '.join(args)} failed: {done.stderr.strip()[-500:]}")
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def windows(received: list[float], released: list[float], rate: float) -> dict[str, object]:
    """Average rate over the run and the busiest sliding second, at the server and the sender."""
    times = sorted(received)
    if len(times) < 2:
        return {"sent": len(times)}
    average = (len(times) - 1) / (times[-1] - times[0])
    limit = int(rate)
    server_peak, sender_peak = busiest_window(times), busiest_window(released)
    return {
        "sent": len(times),
        "configured_rate": rate,
        "achieved_rate": round(average, 2),
        "achieved_over_configured": round(average / rate, 3),
        "busiest_second_server": server_peak,
        "busiest_second_sender": sender_peak,
        "server_within_limit": server_peak <= limit,
        "sender_within_limit": sender_peak <= limit,
        "average_ok": average >= 0.95 * rate,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    args = parser.parse_args()
    config = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))
    rates = config["campaigns"]
    tg_rate, wa_rate = float(rates["telegram_rate"]), float(rates["whatsapp_rate"])
    telegram = round(args.recipients * tg_rate / (tg_rate + wa_rate))
    whatsapp = args.recipients - telegram
    tmp = Path(tempfile.mkdtemp(prefix="bench-campaigns-"))
    config["whatsapp"]["template_content_sid"] = "HX" + "0" * 32  # campaigns need one
    config_path = tmp / "config.yml"
    config_path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    url = args.database_url or f"sqlite:///{tmp / 'bench.db'}"
    seed(url, telegram, whatsapp)
    fake_tg, fake_wa = FakeTelegram(), FakeTwilio()
    # The fake servers are the instrument: a full garbage collection over this process's
    # objects would pause them for ~100 ms and stamp the requests queued meanwhile as
    # arriving together, which a real provider's clock would not.
    gc.collect()
    gc.freeze()
    with ServerThread(fake_tg.app) as tg_server, ServerThread(fake_wa.app) as wa_server:
        env = os.environ | {
            "DATABASE_URL": url,
            "FRONTDESK_CONFIG": str(config_path),
            "PUBLIC_BASE_URL": "https://frontdesk.example.org",
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE_URL": f"{tg_server.url}/bot",
            "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "TWILIO_WHATSAPP_FROM": "whatsapp:+14155238886",
            "TWILIO_API_BASE_URL": wa_server.url,
            "BENCH_RELEASED": str(tmp / "released.json"),
        }
        created = frontdesk(env, "campaign", "create", "--title", "Bench", "--text", "Ciao!")
        started = time.monotonic()
        report = frontdesk(env, "campaign", "send", str(created["id"]), "--force", paced=True)
        elapsed = time.monotonic() - started
    released: dict[str, list[float]] = json.loads((tmp / "released.json").read_text())
    sends = fake_tg.named("sendMessage")
    to = [c.params["To"] for c in fake_wa.calls]
    duplicates = (len(sends) - len(fake_tg.sent_per_chat)) + (len(to) - len(set(to)))
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak_kib = children.ru_maxrss  # Linux: KiB
    print(
        json.dumps(
            {
                "recipients": created["recipients"],
                "seconds": round(elapsed, 1),
                "telegram": windows([c.at for c in sends], released.get("telegram", []), tg_rate),
                "whatsapp": windows(
                    [c.at for c in fake_wa.calls], released.get("whatsapp", []), wa_rate
                ),
                "duplicates": duplicates,
                "report": {k: report[k] for k in ("sent", "failed", "uncertain", "pending")},
                "sender_peak_rss_mib": round(peak_kib / 1024, 1),
                "sender_cpu_seconds": round(children.ru_utime + children.ru_stime, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
