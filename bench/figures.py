"""The figure value, and the one table and JSON file a run writes."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from attrs import asdict, frozen


@frozen
class Figure:
    """One measured figure beside its baseline, measured in the same run.

    ``ratio`` is ``value / baseline``: for a rate, the share of the baseline reached (higher
    is better); for a time or a memory size, how many times the baseline it took.
    """

    value: float
    baseline: float
    unit: str
    label: str = ""
    """What the value and the baseline are, for the table (not written to JSON)."""

    @property
    def ratio(self) -> float:
        """Return ``value / baseline`` (0 when the baseline is 0)."""
        return self.value / self.baseline if self.baseline else 0.0

    def as_json(self) -> dict[str, float | str]:
        """Return the ``{"value", "baseline", "ratio", "unit"}`` form of the JSON file."""
        plain = asdict(self)
        del plain["label"]
        return {**plain, "ratio": round(self.ratio, 4)}


def table(title: str, figures: Mapping[str, Figure]) -> str:
    """Return the figures as one fixed-width text table under ``title``."""
    width = max([20, *map(len, figures)])
    header = f"{'figure':<{width}} {'value':>12} {'baseline':>12} {'ratio':>7}  {'unit':<9} vs"
    lines = [title, header, "-" * len(header)]
    for name, f in figures.items():
        lines.append(
            f"{name:<{width}} {_num(f.value):>12} {_num(f.baseline):>12} {f.ratio:>7.2f}"
            f"  {f.unit:<9} {f.label}"
        )
    return "\n".join(lines)


def _num(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}"


def write_json(path: Path, figures: Mapping[str, Figure]) -> None:
    """Write ``{figure name: {"value", "baseline", "ratio", "unit"}}`` to ``path``."""
    body = {name: figure.as_json() for name, figure in figures.items()}
    path.write_text(json.dumps(body, indent=2) + "\n", encoding="utf-8")
