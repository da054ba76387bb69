"""Render the CLI reference (docs/cli.md) from the commands themselves.

``python -m doorward.cli.reference > docs/cli.md`` regenerates it; a test fails when the file
and the commands disagree.
"""

from __future__ import annotations

from typing import Any

import typer.main

from doorward.cli import build_app

__all__ = ["render_reference"]

_INTRO = """# Command line reference

Every `doorward` command, generated from the commands themselves by
`python -m doorward.cli.reference > docs/cli.md` (a test fails when this page is out of date).
Settings not given as options come from `DOORWARD_*` environment variables
(see [configuration.md](configuration.md)). Errors print what was wrong and how to fix it, and
exit with a non-zero status; they never print a traceback.
"""


# Typer vendors its own copy of click, so commands and parameters are duck-typed here.
def _walk(command: Any, path: str) -> list[tuple[str, Any]]:
    found = [(path, command)]
    if hasattr(command, "commands"):
        for name in sorted(command.commands):
            found.extend(_walk(command.commands[name], f"{path} {name}"))
    return found


def _param_row(param: Any) -> str:
    if param.param_type_name == "option":
        names = ", ".join(f"`{o}`" for o in (*param.opts, *param.secondary_opts))
        text = param.help or ""
        if param.required:
            text = f"**required.** {text}"
        elif param.default not in (None, False, "", ()) and not param.is_flag:
            text = f"{text} (default: `{param.default}`)"
    else:
        names = f"`{param.name.upper() if param.name else ''}`"
        text = "argument" + ("" if param.required else " (optional)")
    return f"| {names} | {' '.join(text.split())} |"


def render_reference() -> str:
    root = typer.main.get_command(build_app())
    parts = [_INTRO]
    for path, command in _walk(root, "doorward")[1:]:
        ctx = command.context_class(command, info_name=path)
        parts.append(f"## `{path}`\n")
        if command.help:
            parts.append(" ".join(command.help.split()) + "\n")
        parts.append(f"```\n{' '.join(command.collect_usage_pieces(ctx))}\n```\n".replace(
            "```\n", f"```\n{path} ", 1))
        params = [p for p in command.params if p.name != "help"]
        if params:
            parts.append("| option | meaning |\n|---|---|")
            parts.extend(_param_row(p) for p in params)
            parts.append("")
    return "\n".join(parts).rstrip() + "\n"


if __name__ == "__main__":
    print(render_reference(), end="")
