"""The horizontal bar charts of the registration panel (affiliations, choice answers, minutes
present), drawn as SVG by the panel's templates from these rows."""

from collections.abc import Iterable


def bar_chart(bars: Iterable[tuple[str, int]]) -> dict:
    """Rows for `bars`, (label, count) pairs in order: the longest bar is 300 wide, each row
    22 high; returns {"rows": [...], "height": ...}."""
    bars = list(bars)
    peak = max((count for _, count in bars), default=0)
    rows = [
        {
            "label": label,
            "count": count,
            "y": index * 22,
            "width": round(300 * count / peak, 1) if peak else 0,
        }
        for index, (label, count) in enumerate(bars)
    ]
    return {"rows": rows, "height": len(rows) * 22}
