"""`game serve`: check every setting, bind the port, then start the server.

Nothing is opened, created or bound until every setting is valid: each bad one is
a line naming where it came from (`--port -5`, `GAME_TURN_SECONDS=-1`) and what it
must be, and the exit status is 2. A port that cannot be bound is one line and 2 too.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import os
import re
import shlex
import sys
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError
from pydantic_settings import SettingsError

from game.server.settings import CrossFieldError, Settings, default_db_path

EXIT_BAD_SETTINGS = 2
# setting -> flag; every setting (these too) also has its GAME_* variable
FLAGS = {"host": "--host", "port": "--port", "db": "--db", "log_level": "--log-level",
         "log_format": "--log-format", "redis_url": "--redis", "workers": "--workers",
         "redis_cluster": "--redis-cluster"}
SECRET_WORDS = ("token", "secret", "password", "redis_url")
DOCS = "docs/operations.md"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Run the game server: one process, its matches and players in a local SQLite "
        f"file. Every setting has a GAME_* environment variable ({DOCS} lists them); "
        "a flag wins over the variable.")
    parser.add_argument("--host", help="interface to listen on (GAME_HOST; default "
                                       "127.0.0.1, 0.0.0.0 for every interface)")
    parser.add_argument("--port", help="TCP port (GAME_PORT; default 8000; 0 picks a free "
                                       "one)")
    parser.add_argument("--db", metavar="PATH", help=(
        "the SQLite file where matches and players are kept, or :memory: to keep nothing "
        "(GAME_DB). Default: $XDG_DATA_HOME/game-server/game.sqlite3, or without "
        f"XDG_DATA_HOME ~/.local/share/game-server/game.sqlite3; here {default_db_path()}. "
        "Its directory must exist, except the default's"))
    parser.add_argument("--log-format", metavar="{auto,console,json}", help=(
        "console: lines for people; json: one JSON object a line (GAME_LOG_FORMAT; default "
        "auto: console on a terminal, json otherwise)"))
    parser.add_argument("--log-level", metavar="{debug,info,warning,error,critical}",
                        help="least important events logged (GAME_LOG_LEVEL; default info)")
    parser.add_argument("--workers", help="server processes sharing the port (GAME_WORKERS; "
                                          "default 1; above 1 needs --redis)")
    parser.add_argument("--redis", metavar="URL", dest="redis_url", help=(
        "the Redis every process of one game world shares (GAME_REDIS_URL), e.g. "
        "redis://127.0.0.1:6379/0; without it, one process on the embedded SQLite store"))
    parser.add_argument("--redis-cluster", action="store_const", const="true", help=(
        "the --redis URL names a node of a Redis Cluster (GAME_REDIS_CLUSTER)"))


def run(args: argparse.Namespace) -> int:
    flags = {name: str(value) for name in FLAGS
             if (value := getattr(args, name, None)) is not None}
    try:
        settings = Settings(**flags)  # type: ignore[arg-type]  # strings, validated
    except ValidationError as exc:
        return refuse(describe(exc, flags))
    except SettingsError as exc:  # a list or dict setting that is not JSON
        return refuse([describe_settings_error(exc, flags)])

    from game.server.listen import ListenError, listen, reserve
    from game.server.logs import chosen_format, configure_logging
    from game.server.run import serve

    json_lines = chosen_format(settings.log_format, settings.log_json, sys.stderr) == "json"
    configure_logging(settings.log_level, json_lines)
    try:
        # --workers: each worker listens on the port itself (SO_REUSEPORT); this holds it
        sock = reserve(settings) if settings.workers > 1 else listen(settings)
    except ListenError as exc:
        sys.stderr.write(f"game serve: {exc}\n")
        return EXIT_BAD_SETTINGS
    problem = database_problem(settings)
    if problem is not None:
        sock.close()
        sys.stderr.write(f"game serve: {problem}\n")
        return EXIT_BAD_SETTINGS
    log_setting_notes(settings, os.environ)
    if settings.workers > 1:
        from game.server.workers import supervise

        return supervise(settings, sock, json_lines)
    serve(settings, sock)
    return 0


def refuse(lines: list[str]) -> int:
    sys.stderr.write("game serve: invalid settings, nothing was started\n")
    sys.stderr.write("".join(f"  {line}\n" for line in lines))
    sys.stderr.write(f"  (every setting, its default and its limits: {DOCS})\n")
    return EXIT_BAD_SETTINGS


def describe(exc: ValidationError, flags: Mapping[str, str]) -> list[str]:
    """One line per invalid setting: where it came from, then what it must be."""
    lines: dict[str, str] = {}
    for error in exc.errors(include_url=False):
        field = str(error["loc"][0]) if error["loc"] else ""
        if field in lines:
            continue
        cause = error.get("ctx", {}).get("error")
        involved = cause.fields if isinstance(cause, CrossFieldError) else (field,)
        label = " with ".join(source(name, flags) for name in involved)
        lines[field] = f"{label}: {reason(error, field)}"
    return list(lines.values())


def describe_settings_error(exc: SettingsError, flags: Mapping[str, str]) -> str:
    found = re.search(r'field "(\w+)"', str(exc))
    if found is None:
        return str(exc)
    return f"{source(found[1], flags)}: must be JSON ({exc.__cause__ or exc})"


def source(name: str, flags: Mapping[str, str]) -> str:
    """`--port -5`, `GAME_PORT=-5`, or `GAME_PORT=8000 (default)`."""
    if name in flags:
        return f"{FLAGS[name]} {shown(name, flags[name])}"
    wanted = f"GAME_{name.upper()}"
    for key, value in os.environ.items():
        if key.upper() == wanted:
            return f"{key}={shown(name, value)}"
    field = Settings.model_fields.get(name)
    default = field.get_default(call_default_factory=True) if field is not None else None
    return f"{wanted}={shown(name, str(default))} (default)"


def shown(name: str, value: str) -> str:
    field = Settings.model_fields.get(name)
    secret = any(word in name for word in SECRET_WORDS) or (
        field is not None and "SecretStr" in str(field.annotation))
    if secret:
        return "(hidden)"
    if len(value) > 200:  # a whole JSON document pasted in the wrong variable
        value = value[:197] + "..."
    return shlex.quote(value)


MESSAGES = {
    "greater_than": "must be greater than {gt}",
    "greater_than_equal": "must be at least {ge}",
    "less_than": "must be less than {lt}",
    "less_than_equal": "must be at most {le}",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "int_type": "must be a whole number",
    "float_parsing": "must be a number",
    "float_type": "must be a number",
    "finite_number": "must be a finite number",
    "bool_parsing": "must be true or false",
    "bool_type": "must be true or false",
    "string_too_short": "must not be empty",
    "list_type": "must be a list",
    "dict_type": "must be a JSON object",
}


def reason(error: Any, field: str) -> str:
    kind, ctx = error["type"], error.get("ctx", {})
    if kind == "value_error":
        return str(ctx["error"])
    if kind == "literal_error":
        return "must be one of " + str(ctx["expected"]).replace("'", "")
    low, high = bounds(field)
    if kind in ("greater_than_equal", "less_than_equal") and low is not None \
            and high is not None:
        return f"must be between {number(low)} and {number(high)}"
    template = MESSAGES.get(kind)
    if template is None:
        return str(error["msg"])
    return template.format(**{key: number(value) for key, value in ctx.items()})


def number(value: Any) -> Any:
    """0.0 as 0: the bounds of float settings are written as whole numbers."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def bounds(field: str) -> tuple[Any, Any]:
    """A field's inclusive ge and le, when it has them."""
    info = Settings.model_fields.get(field)
    low = high = None
    for rule in info.metadata if info is not None else []:
        low = getattr(rule, "ge", low)
        high = getattr(rule, "le", high)
    return low, high


def database_problem(settings: Settings) -> str | None:
    """Why the database cannot be opened, if it cannot: said in one line now, rather
    than as a traceback from the store's thread once uvicorn has started. The settings
    check cannot see everything (root may write anywhere os.access says, a file may
    not be a database at all)."""
    if settings.redis_url is not None:  # the Redis mode keeps nothing in SQLite
        from game.server.cluster.wiring import redis_problem

        return redis_problem(settings)
    if settings.db == ":memory:":
        return None
    import sqlite3
    from pathlib import Path

    try:
        Path(settings.db).parent.mkdir(parents=True, exist_ok=True)  # only the default's
        with contextlib.closing(sqlite3.connect(settings.db,
                                                timeout=settings.db_busy_timeout)) as db:
            db.execute("PRAGMA schema_version").fetchone()  # reads the header
    except (OSError, sqlite3.Error) as error:
        return f"cannot open the database {settings.db}: {error}"
    return None


def log_setting_notes(settings: Settings, environ: Mapping[str, str]) -> None:
    """Warn about what is accepted but probably not meant: the deprecated log_json,
    and GAME_* variables that are no setting (a typo is otherwise ignored)."""
    import structlog

    log = structlog.get_logger("game.settings")
    if settings.log_json is not None:
        log.warning("setting_deprecated", setting="GAME_LOG_JSON", use="GAME_LOG_FORMAT",
                    log_format="json" if settings.log_json else "console")
    known = [f"GAME_{name.upper()}" for name in Settings.model_fields]
    for key in environ:
        name = key.upper()
        if name.startswith("GAME_") and name not in known and not name.startswith(
                "GAME_TEST_"):
            close = difflib.get_close_matches(name, known, n=1)
            log.warning("setting_unknown", variable=key, ignored=True,
                        did_you_mean=close[0] if close else None)
