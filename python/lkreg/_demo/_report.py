"""The demo's output: plain-text tables for the terminal, PNGs and one self-contained HTML file."""

from __future__ import annotations

import base64
import html
import io
import os
from typing import Any, List, Sequence

TABLE_STYLE = ("body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;"
               "color:#222}table{border-collapse:collapse;margin:0.5em 0}td,th{border:1px solid "
               "#ccc;padding:3px 8px;text-align:right}th{background:#f3f3f3}img{max-width:100%;"
               "margin:0.5em 0}.conclusion{font-weight:600}.skipped{color:#a00}")


def format_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """Columns padded to their widest cell, the first left-aligned, the others right-aligned."""
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells if i < len(r)) for i in range(len(headers))]

    def line(row: Sequence[str]) -> str:
        parts = [c.ljust(widths[0]) if i == 0 else c.rjust(widths[i]) for i, c in enumerate(row)]
        return "  " + "  ".join(parts).rstrip()

    rule = "  " + "  ".join("-" * w for w in widths)
    return "\n".join([line(cells[0]), rule] + [line(r) for r in cells[1:]])


def _html_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>"
                   for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def write_report(results: List[Any], out_dir: str, draw: bool = True) -> str:
    """Each figure as ``out_dir/NAME.png`` and ``report.html`` with the PNGs embedded (base64)."""
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>lkreg demo</title>"
             f"<style>{TABLE_STYLE}</style></head><body><h1>lkreg demo</h1>"]
    for result in results:
        parts.append(f"<h2>{html.escape(result.title)}</h2>")
        if result.skipped:
            parts.append(f"<p class='skipped'>skipped: {html.escape(result.skipped)}</p>")
            continue
        parts.append(_html_table(result.headers, result.rows))
        parts.append(f"<p class='conclusion'>{html.escape(result.conclusion)}</p>")
        if not draw:
            continue
        for name, make in result.figures.items():
            fig = make()
            buffer = io.BytesIO()
            fig.savefig(buffer, format="png", dpi=100)
            data = buffer.getvalue()
            with open(os.path.join(out_dir, name), "wb") as f:
                f.write(data)
            encoded = base64.b64encode(data).decode("ascii")
            parts.append(f"<figure><img alt='{html.escape(name)}' "
                         f"src='data:image/png;base64,{encoded}'><figcaption>{html.escape(name)}"
                         "</figcaption></figure>")
    if not draw:
        parts.append("<p>Figures need matplotlib: pip install 'lkreg[demo]'.</p>")
    parts.append("</body></html>")
    path = os.path.join(out_dir, "report.html")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(parts))
    return path
