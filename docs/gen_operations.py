"""Generates the settings reference of docs/operations.md from the settings model.

    python docs/gen_operations.py           # rewrite docs/operations.md in place
    python docs/gen_operations.py --check   # exit 1 if the document is stale

Every field of `game.server.settings.Settings` becomes a row: its `GAME_*` variable,
its `game serve` flag if it has one, its default, what values are allowed (from the
field's type and its ge/gt/le/lt bounds) and its description. The rows replace what
is between `<!-- gen:settings -->` and `<!-- /gen:settings -->`; the rest of the
document is written by hand. tests/docs/test_operations_doc.py fails when the
document and the model disagree.
"""

from __future__ import annotations

import argparse
import re
import sys
import types
import typing
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "operations.md"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from pydantic.fields import FieldInfo  # noqa: E402

from game.server.cli import FLAGS  # noqa: E402
from game.server.settings import Settings  # noqa: E402

SECTION = re.compile(
    r"(?P<open><!-- gen:(?P<name>[\w-]+) -->\n)(?P<body>.*?)(?P<close><!-- /gen:(?P=name) -->)",
    re.DOTALL)
# defaults that depend on the machine, written as the rule that computes them
RULES = {"db": "`$XDG_DATA_HOME/game-server/game.sqlite3`, without XDG_DATA_HOME "
               "`~/.local/share/game-server/game.sqlite3`"}
# values whose type alone (a string) says too little
KINDS = {"host": "an address or a host name", "db": "a file path, or `:memory:`"}


def settings_table() -> str:
    rows = ["| variable | flag | default | allowed | meaning |", "|---|---|---|---|---|"]
    for name, field in Settings.model_fields.items():
        flag = f"`{FLAGS[name]}`" if name in FLAGS else ""
        cells = [f"`GAME_{name.upper()}`", flag, default_of(name, field),
                 KINDS.get(name) or allowed(field),
                 cell(field.description or "")]
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def default_of(name: str, field: FieldInfo) -> str:
    if name in RULES:
        return RULES[name]
    value = field.get_default(call_default_factory=True)
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, list | dict):
        return f"`{value!r}`".replace("'", '"')
    return f"`{value}`"


def allowed(field: FieldInfo) -> str:
    kind = _bare(field.annotation)
    choices = typing.get_args(kind) if typing.get_origin(kind) is typing.Literal else ()
    if choices:
        return ", ".join(f"`{choice}`" for choice in choices)
    base = {int: "whole number", float: "number", bool: "`true`, `false`", list: "list",
            dict: "JSON object"}.get(typing.get_origin(kind) or kind, "text")
    bounds = {key: getattr(rule, key) for rule in field.metadata
              for key in ("ge", "gt", "le", "lt") if getattr(rule, key, None) is not None}
    if set(bounds) == {"ge", "le"}:
        limits = [f"{_num(bounds['ge'])} to {_num(bounds['le'])}"]
    else:
        signs = {"ge": "≥", "gt": ">", "le": "≤", "lt": "<"}
        limits = [f"{signs[key]} {_num(value)}" for key, value in bounds.items()]
    text = " ".join([base, ", ".join(limits)]).strip()
    return f"{text}, or unset" if _optional(field.annotation) else text


def _bare(annotation: Any) -> Any:
    """The type without `| None` and without Annotated metadata."""
    if typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        rest = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        return _bare(rest[0]) if len(rest) == 1 else annotation
    return annotation


def _optional(annotation: Any) -> bool:
    return type(None) in typing.get_args(annotation)


def _num(value: Any) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def sections() -> dict[str, str]:
    return {"settings": settings_table()}


def sections_of(document: str) -> dict[str, str]:
    return {found["name"]: found["body"].rstrip("\n") for found in SECTION.finditer(document)}


def fill(document: str, generated: dict[str, str]) -> str:
    def replace(found: re.Match[str]) -> str:
        body = generated.get(found["name"])
        return found[0] if body is None else f"{found['open']}{body}\n{found['close']}"

    return SECTION.sub(replace, document)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only say whether it is stale")
    args = parser.parse_args(argv)
    document = DOC.read_text()
    updated = fill(document, sections())
    if args.check:
        stale = updated != document
        verdict = "stale, run python docs/gen_operations.py" if stale else "current"
        print(f"{DOC.relative_to(ROOT)}: {verdict}")
        return 1 if stale else 0
    DOC.write_text(updated)
    print(f"wrote {DOC.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
