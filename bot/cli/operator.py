"""`frontdesk operator add`: console accounts from the command line."""

from __future__ import annotations

import sys

import typer

from bot.cli.common import fail, open_sessions, print_json, settings_or_exit

operator_app = typer.Typer(help="Account della console operatori.", no_args_is_help=True)


@operator_app.command("add")
def add(
    email: str = typer.Option(..., help="E-mail (the login)"),
    name: str = typer.Option(..., help="Nome e cognome; the first name is shown to residents"),
    role: str = typer.Option("operator", help="operator | admin"),
    social_point: list[str] = typer.Option(
        [], "--social-point", help="Social Point id from config.yml (repeatable)"
    ),
    password_stdin: bool = typer.Option(False, help="Read the password from standard input"),
) -> None:
    """Creates an operator; prints `{"id", "email", "role", "social_points"}` as JSON."""
    from bot.console.accounts import AccountError, create_operator

    settings = settings_or_exit()
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    sessions = open_sessions(settings.env.DATABASE_URL)
    try:
        operator_id = create_operator(
            sessions,
            settings,
            email=email,
            name=name,
            password=password,
            role=role,
            social_points=social_point,
        )
    except AccountError as exc:
        fail(str(exc))
    print_json(
        {
            "id": operator_id,
            "email": email.strip().lower(),
            "role": role,
            "social_points": sorted(set(social_point)),
        }
    )
