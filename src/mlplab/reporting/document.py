"""A report as a list of blocks, rendered twice from the same blocks: markdown that links its
figures as files, and one self-contained HTML page (inline CSS, every image a base64 `data:`
URI, no script, no font or stylesheet from the network) that opens offline.

Inline text may hold `**bold**` and `` `code` ``; both renderers understand exactly that.
"""

from __future__ import annotations

import base64
import html
import re
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Heading:
    text: str
    level: int = 2


@dataclass(frozen=True)
class Paragraph:
    text: str


@dataclass(frozen=True)
class Bullets:
    items: tuple[str, ...]


@dataclass(frozen=True)
class Table:
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    numeric: tuple[bool, ...] = ()  # right-aligned columns; default: every column but the first


@dataclass(frozen=True)
class Figure:
    path: Path  # a PNG the report wrote, under the report's folder
    caption: str


Block = Heading | Paragraph | Bullets | Table | Figure


def _right(table: Table) -> tuple[bool, ...]:
    return table.numeric or tuple(i > 0 for i in range(len(table.header)))


def to_markdown(blocks: list[Block], base: Path) -> str:
    """Markdown whose figure links are relative to `base`, the folder report.md is in."""
    lines: list[str] = []
    for block in blocks:
        if isinstance(block, Heading):
            lines += ["#" * block.level + " " + block.text, ""]
        elif isinstance(block, Paragraph):
            lines += [block.text, ""]
        elif isinstance(block, Bullets):
            lines += [f"- {item}" for item in block.items] + [""]
        elif isinstance(block, Table):
            cells = [c.replace("|", "\\|") for c in block.header]
            lines.append("| " + " | ".join(cells) + " |")
            lines.append("|" + "|".join("---:" if r else "---" for r in _right(block)) + "|")
            for row in block.rows:
                lines.append("| " + " | ".join(c.replace("|", "\\|") for c in row) + " |")
            lines.append("")
        else:
            link = block.path.relative_to(base).as_posix()
            lines += [f"![{block.caption}]({link})", "", f"*{block.caption}*", ""]
    return "\n".join(lines).rstrip("\n") + "\n"


CSS = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #1f2328;
       max-width: 60rem; margin: 2rem auto; padding: 0 1.5rem; line-height: 1.5; }
h1 { border-bottom: 2px solid #d0d7de; padding-bottom: .3rem; }
h2 { border-bottom: 1px solid #d0d7de; padding-bottom: .2rem; margin-top: 2.2rem; }
table { border-collapse: collapse; margin: .8rem 0 1.2rem; font-size: .92rem; }
th, td { border: 1px solid #d0d7de; padding: .25rem .7rem; }
th { background: #f6f8fa; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tbody tr:nth-child(even) { background: #fafbfc; }
code { background: #f6f8fa; padding: .1rem .3rem; border-radius: 4px; font-size: .9em; }
figure { margin: 1rem 0 1.6rem; }
figure img { max-width: 100%; height: auto; }
figcaption { color: #57606a; font-size: .9rem; }
"""


def _inline(text: str) -> str:
    """HTML of one line of report text: escaped, with `code` and **bold**."""
    out = html.escape(text, quote=False)
    out = re.sub(r"`([^`]+)`", r"<code>\1</code>", out)
    return re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", out)


def _data_uri(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def _html_table(table: Table) -> str:
    right = _right(table)

    def cells(tag: str, row: tuple[str, ...]) -> str:
        opened = [f'<{tag} class="num">' if r else f"<{tag}>" for r in right]
        return "".join(f"{o}{_inline(text)}</{tag}>" for o, text in zip(opened, row, strict=True))

    body = "".join(f"<tr>{cells('td', row)}</tr>" for row in table.rows)
    return (
        f"<table><thead><tr>{cells('th', table.header)}</tr></thead><tbody>{body}</tbody></table>"
    )


def to_html(blocks: list[Block], title: str) -> str:
    """One HTML page holding everything it shows; it references no other file."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        '<head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title>",
        f"<style>{CSS}</style></head>",
        "<body>",
    ]
    for block in blocks:
        if isinstance(block, Heading):
            parts.append(f"<h{block.level}>{_inline(block.text)}</h{block.level}>")
        elif isinstance(block, Paragraph):
            parts.append(f"<p>{_inline(block.text)}</p>")
        elif isinstance(block, Bullets):
            items = "".join(f"<li>{_inline(item)}</li>" for item in block.items)
            parts.append(f"<ul>{items}</ul>")
        elif isinstance(block, Table):
            parts.append(_html_table(block))
        else:
            alt = html.escape(block.caption)
            parts.append(
                f'<figure><img src="{_data_uri(block.path)}" alt="{alt}">'
                f"<figcaption>{_inline(block.caption)}</figcaption></figure>"
            )
    parts += ["</body>", "</html>"]
    return "\n".join(parts) + "\n"
