"""`frontdesk nlu train|serve|parse|eval`."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import typer

from bot.cli.common import fail, print_json, settings_or_exit
from bot.cli.nlu_runtime import NluEndpoint, ensure_model, nlu_endpoint
from nlu.rasa_process import RasaError, RasaServer, train

nlu_app = typer.Typer(help="Comprensione del linguaggio (Rasa).", no_args_is_help=True)


@nlu_app.command("train")
def train_cmd() -> None:
    """Trains the model from nlu/ (skipped by Rasa when data and config are unchanged)."""
    settings = settings_or_exit()
    try:
        path = train(settings.config.nlu.model_dir)
    except RasaError as exc:
        fail(str(exc))
    print_json({"model": str(path)})


@nlu_app.command("serve")
def serve_cmd(
    port: int = typer.Option(5005), token: str = typer.Option(None, envvar="RASA_TOKEN")
) -> None:
    """Runs `rasa run --enable-api` on 127.0.0.1 with an auth token, until Ctrl-C."""
    settings = settings_or_exit()
    if not token:
        fail("RASA_TOKEN is required: the server must not answer without a token")
    server = RasaServer(model=ensure_model(settings), port=port, token=token)
    try:
        server.start()
        server.wait_ready()
        typer.echo(f"Rasa pronto su {server.url} (Ctrl-C per fermarlo)", err=True)
        assert server.process is not None
        server.process.wait()
    except RasaError as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


@nlu_app.command("parse")
def parse_cmd(
    text: str = typer.Argument(None, help="Text; without it, one message per stdin line"),
) -> None:
    """Prints `{"text", "intent", "confidence", "entities"}` as JSON (one line per message)."""
    settings = settings_or_exit()
    with nlu_endpoint(settings) as endpoint:
        asyncio.run(_parse_all(endpoint, settings, [text] if text is not None else None))


async def _parse_all(endpoint: NluEndpoint, settings: object, texts: list[str] | None) -> None:
    from bot.settings import Settings

    assert isinstance(settings, Settings)
    async with endpoint.client(settings) as client:
        lines = texts if texts is not None else (line.rstrip("\n") for line in sys.stdin)
        for line in lines:
            result = await client.parse(line)
            print_json(result.to_json())
            sys.stdout.flush()


@nlu_app.command("eval")
def eval_cmd(
    out: Path = typer.Option(Path("var/nlu-eval"), help="Folder for reports and images"),
    folds: int = typer.Option(5, help="Cross-validation folds (0 = skip cross-validation)"),
    test: Path = typer.Option(
        None,
        "--test",
        help="Score this JSONL file (shared/eval format) instead of CV and the held-out set",
    ),
    include_in_training: bool = typer.Option(
        False, help="With --test, also score lines marked in_training (not strictly unseen)"
    ),
) -> None:
    """Cross-validation plus the held-out test set; prints the headline scores as JSON.

    With `--test FILE.jsonl`, only that file is scored (through the same client the app
    uses): a report on stdout, the scores as JSON on the last line.
    """
    if test is not None:
        _eval_file(test, out=out, include_in_training=include_in_training)
        return
    from nlu.evaluation import evaluate

    settings = settings_or_exit()
    model = ensure_model(settings)
    try:
        with nlu_endpoint(settings) as endpoint:
            scores = evaluate(endpoint.client(settings), out=out, folds=folds, model=model)
    except RasaError as exc:
        fail(str(exc))
    print_json(scores)


def _eval_file(path: Path, *, out: Path, include_in_training: bool) -> None:
    from nlu.evaluation import evaluate_file, format_test_report
    from nlu.taxonomy import INTENTS
    from nlu.training_data import EvalFileError, read_jsonl

    try:  # a malformed file fails before Rasa is started
        test_set = read_jsonl(path, intents=INTENTS, include_in_training=include_in_training)
    except EvalFileError as exc:
        fail(str(exc))
    if not test_set.examples:
        fail(f"{path}: no examples to score")
    settings = settings_or_exit()
    try:
        with nlu_endpoint(settings) as endpoint:
            scores = evaluate_file(endpoint.client(settings), test_set, name=str(path), out=out)
    except RasaError as exc:
        fail(str(exc))
    for line in format_test_report(scores):
        typer.echo(line)
    print_json(scores)
