"""The configuration reference from conf/: every group, every option, its comment, its default.

Reads the YAML files as text (the comments are the documentation), so it needs neither vad nor
Hydra. The docs build calls `render` through `docs/hooks.py`; `python docs/gen_config_reference.py`
prints the page.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

CONF = Path(__file__).resolve().parent.parent / "conf"
KEY = re.compile(r"^(?P<indent> *)(?P<key>[A-Za-z_][\w.\-/@]*|'[^']*'|\"[^\"]*\"):(?P<rest>.*)$")


@dataclass
class Option:
    """One key of a config file: its dotted name, its default (as written) and its comment."""

    name: str
    default: str
    comment: list[str] = field(default_factory=list)


def split_comment(text: str) -> tuple[str, str]:
    """Split `value  # comment` outside quotes into (value, comment)."""
    quote = ""
    for i, ch in enumerate(text):
        if ch in "'\"" and not quote:
            quote = ch
        elif ch == quote:
            quote = ""
        elif ch == "#" and not quote and (i == 0 or text[i - 1] in " \t"):
            return text[:i].strip(), text[i + 1 :].strip()
    return text.strip(), ""


def parse(text: str) -> tuple[list[str], list[Option]]:
    """The file's header comment and its options, nested keys dotted, list items folded in."""
    header: list[str] = []
    options: list[Option] = []
    pending: list[str] = []
    stack: list[tuple[int, str]] = []
    seen_key = False
    last: Option | None = None
    for raw in text.splitlines():
        line = raw.rstrip()
        stripped = line.strip()
        if not stripped:
            if not seen_key and pending:
                header, pending = header + pending, []
            continue
        if stripped.startswith("#"):
            body = stripped.lstrip("#").strip()
            if body.startswith("@package"):
                continue
            if last is not None and raw.startswith(" " * 10) and not pending:
                last.comment.append(body)  # a continued inline comment, aligned under it
                continue
            pending.append(body)
            continue
        match = KEY.match(line)
        if match is None:  # a list item or a continuation of a flow value
            value, comment = split_comment(stripped)
            if last is not None:
                last.default = (last.default + " " + value).strip()
                last.comment += [comment] if comment else []
            continue
        indent = len(match["indent"])
        while stack and stack[-1][0] >= indent:
            stack.pop()
        name = ".".join([k for _, k in stack] + [match["key"].strip("'\"")])
        value, comment = split_comment(match["rest"])
        if not seen_key and match["key"] in ("defaults", "_target_"):
            header, pending = header + pending, []  # the file's own comment, not the key's
        last = Option(name, value, pending + ([comment] if comment else []))
        options.append(last)
        pending, seen_key = [], True
        stack.append((indent, match["key"].strip("'\"")))
    if not seen_key:
        header += pending
    return header, options


def cell(text: str) -> str:
    """Escape a value or comment for a Markdown table cell."""
    return text.replace("|", "\\|").replace("\n", " ")


def file_section(path: Path, level: str) -> list[str]:
    """The Markdown of one config file: header comment, then a table of its options."""
    header, options = parse(path.read_text(encoding="utf-8"))
    rel = path.relative_to(CONF).as_posix()
    out = [f"{level} `{rel}`", ""]
    if header:
        out += [" ".join(header), ""]
    rows = [o for o in options if o.default or o.comment]
    if rows:
        out += ["| option | default | what it does |", "|---|---|---|"]
        for o in rows:
            default = f"`{cell(o.default)}`" if o.default else ""
            out.append(f"| `{o.name}` | {default} | {cell(' '.join(o.comment))} |")
        out.append("")
    return out


def render(conf: Path = CONF) -> str:
    """The whole reference page: the root configs, then each group with its choices."""
    out = [
        "# Configuration reference",
        "",
        "Generated from `conf/` when the site is built (`docs/gen_config_reference.py`):",
        "every config group, every choice, every option with its default and the comment beside",
        "it in the YAML. Pick a choice with `group=choice` (`model=stae`), set an option with its",
        "dotted name (`data.batch_size=16`, `model.base_width=32`).",
        "",
        "## Root configs",
        "",
    ]
    for path in sorted(conf.glob("*.yaml")):
        out += file_section(path, "###")
    groups = sorted(p for p in conf.rglob("*") if p.is_dir() and any(p.glob("*.yaml")))
    for group in groups:
        rel = group.relative_to(conf).as_posix()
        choices = sorted(p.stem for p in group.glob("*.yaml"))
        out += [f"## Group `{rel}`", "", "Choices: " + ", ".join(f"`{c}`" for c in choices), ""]
        for path in sorted(group.glob("*.yaml")):
            out += file_section(path, "###")
    return "\n".join(out).rstrip() + "\n"


if __name__ == "__main__":
    sys.stdout.write(render(Path(sys.argv[1]) if len(sys.argv) > 1 else CONF))
