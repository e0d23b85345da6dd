"""The budgets of issue 7, locust's CSV output read back, and bench/RESULTS.md written out.

No server, no database: the harness hands this module numbers and it turns them into the
table. Kept apart so that tests/test_bench_harness.py checks it on a small fixture.
"""

from __future__ import annotations

import csv
import math
import re
import statistics
from dataclasses import dataclass, field
from pathlib import Path

# --- budgets ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Budget:
    """One line of issue 7's table. ``limit`` is in ``unit``; never loosen one."""

    key: str
    what: str
    at: str
    budget: str
    limit: float
    unit: str
    higher_is_better: bool = False
    products: int | None = None  # the catalog size the budget is stated at, when it is one


BUDGETS: tuple[Budget, ...] = (
    Budget("search_median", "search endpoint latency, median", "100,000 products", "20 ms", 20, "ms",
           products=100_000),
    Budget("search_p95", "search endpoint latency, p95", "100,000 products", "60 ms", 60, "ms", products=100_000),
    Budget("suggest_median", "suggestions latency, median", "100,000 products", "10 ms", 10, "ms", products=100_000),
    Budget("product_median", "product page, median", "100,000 products", "30 ms", 30, "ms", products=100_000),
    Budget("category_median", "category page, median", "100,000 products", "30 ms", 30, "ms", products=100_000),
    Budget("checkout_rate", "checkout, orders per second, 16 concurrent clients", "PostgreSQL", "≥ 100/s", 100, "/s",
           higher_is_better=True),
    Budget("checkout_oversell", "checkout, units oversold", "PostgreSQL", "0", 0, "units"),
    Budget("dashboard", "completion dashboard and unit ranking", "10,000 units, 1,000,000 order lines", "200 ms",
           200, "ms"),
    Budget("warning_time", "early-warning job, time", "100,000 products, 2,000,000 order lines", "30 s", 30, "s",
           products=100_000),
    Budget("warning_memory", "early-warning job, peak memory", "100,000 products, 2,000,000 order lines", "500 MB",
           500, "MB", products=100_000),
    # The limit is the ratio of the two catalogs' sizes (about 10); the harness puts in the sizes it seeded.
    Budget("warning_growth", "early-warning job, growth of its time", "10,000 → 100,000 products",
           "≤ 10× (linear)", 10, "×", products=100_000),
    Budget("seed", "demo seed", "100,000 products", "2 min", 120, "s", products=100_000),
)
BUDGET_BY_KEY = {b.key: b for b in BUDGETS}


@dataclass
class Row:
    """What one run measured against one budget.

    ``baseline`` is in the same unit as ``measured`` and comes from the same run; ``ratio`` is
    measured ÷ baseline. ``note`` replaces the figure when there is none (``not available yet``).
    """

    budget: Budget
    measured: float | None = None
    at: str | None = None  # the conditions actually measured at, when they differ from the budget's
    products: int | None = None
    baseline: float | None = None
    baseline_label: str = ""
    baseline_unit: str | None = None
    extra: str = ""  # shown after the figure: "peak 370 MB", "1,234 requests, 0 failed"
    below_scale: str = ""  # the data set is smaller than the budget's in another way: say how
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.measured is None or not self.baseline:
            return None
        return self.measured / self.baseline

    @property
    def within(self) -> bool | None:
        if self.measured is None:
            return None
        if self.budget.higher_is_better:
            return self.measured >= self.budget.limit
        return self.measured <= self.budget.limit

    @property
    def below_budget_scale(self) -> bool:
        return self.budget.products is not None and self.products is not None and self.products < self.budget.products


def verdict(row: Row) -> str:
    if row.within is None:
        return "not available yet" if row.note.startswith("not available yet") else "not measured"
    text = "yes" if row.within else "**NO**"
    if row.below_budget_scale:
        text += f" (at {row.products:,} products only)"
    elif row.below_scale:
        text += f" ({row.below_scale})"
    return text


# --- figures -------------------------------------------------------------------------------------------


def fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "ms":
        return f"{value:.1f} ms" if value < 100 else f"{value:,.0f} ms"
    if unit == "s":
        return f"{value:.1f} s"
    if unit == "/s":
        return f"{value:,.1f}/s"
    if unit == "MB":
        return f"{value:,.0f} MB"
    if unit == "×":
        return f"{value:.2f}×"
    return f"{value:,.0f} {unit}".rstrip()


def fmt_ratio(ratio: float | None) -> str:
    if ratio is None:
        return "—"
    if ratio < 0.1:
        return f"{ratio:.2g}×"
    return f"{ratio:.2f}×" if ratio < 10 else f"{ratio:.0f}×"


def median(samples: list[float]) -> float | None:
    return statistics.median(samples) if samples else None


def percentile(samples: list[float], p: float) -> float | None:
    """Nearest-rank percentile (``p`` in 0–100): the value that p % of samples do not exceed."""
    if not samples:
        return None
    ordered = sorted(samples)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


# --- locust ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EndpointStats:
    """One row of locust's ``<prefix>_stats.csv``. Locust rounds response times to whole
    milliseconds (and coarser above 100 ms) before it takes percentiles."""

    name: str
    method: str
    requests: int
    failures: int
    median_ms: float | None
    p95_ms: float | None
    average_ms: float | None
    rps: float


def _number(raw: str | None) -> float | None:
    if raw is None or raw.strip() in ("", "N/A"):
        return None
    return float(raw)


def parse_locust_stats(path: Path | str) -> dict[str, EndpointStats]:
    """Each named request of a ``--csv`` run, by name; the ``Aggregated`` total is left out."""
    stats: dict[str, EndpointStats] = {}
    with open(path, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row.get("Name") == "Aggregated" and not row.get("Type"):
                continue
            stats[row["Name"]] = EndpointStats(
                name=row["Name"],
                method=row.get("Type") or "",
                requests=int(row["Request Count"]),
                failures=int(row["Failure Count"]),
                median_ms=_number(row.get("Median Response Time")),
                p95_ms=_number(row.get("95%")),
                average_ms=_number(row.get("Average Response Time")),
                rps=_number(row.get("Requests/s")) or 0.0,
            )
    return stats


# --- RESULTS.md -------------------------------------------------------------------------------------

PROFILING_HEADING = "## What was changed after profiling"
DEFAULT_PROFILING = f"""{PROFILING_HEADING}

Profile the largest cost first (py-spy or pyinstrument on a gunicorn worker), fix it, rerun
`make bench`, and add a row here. The harness keeps this section when it rewrites the file.

| figure | what the profile showed | what was changed | before → after |
|---|---|---|---|
| | | | |
"""


def profiling_section(existing: str | None) -> str:
    """The hand-written profiling section of an earlier RESULTS.md, or an empty one."""
    if existing and PROFILING_HEADING in existing:
        section = existing[existing.index(PROFILING_HEADING):]
        following = re.search(r"^## ", section[len(PROFILING_HEADING):], flags=re.MULTILINE)
        if following:
            section = section[: len(PROFILING_HEADING) + following.start()]
        return section.rstrip() + "\n"
    return DEFAULT_PROFILING


@dataclass
class Report:
    rows: list[Row]
    machine: dict[str, str]  # label → value, e.g. {"cores": "2", "memory": "23.5 GiB"}
    run: dict[str, str]  # date, commit, settings
    smoke: bool = False
    notes: list[str] = field(default_factory=list)


def render(report: Report, profiling: str = DEFAULT_PROFILING) -> str:
    out = ["# Benchmark results", ""]
    if report.smoke:
        out += ["> **Smoke run at small scale.** This run proves the harness works end to end; its figures are",
                "> not the measurement. The budgets hold at the scale in the *at* column of issue 7 (100,000",
                "> products): run `make bench` with the default `BENCH_SCALE` for the real figures.", ""]
    out += ["Written by `make bench` (bench/harness.py); see bench/README.md for what each figure means.", ""]
    for label, value in {**report.run, **report.machine}.items():
        out.append(f"- {label}: {value}")
    out += ["", "| what | at | budget | measured | baseline | ratio | within budget? |",
            "|---|---|---|---|---|---|---|"]
    for row in report.rows:
        b = row.budget
        at = row.at or b.at
        if row.measured is None:
            measured = row.note or "not measured"
        else:
            measured = fmt(row.measured, b.unit) + (f", {row.extra}" if row.extra else "")
        if row.baseline is not None:
            baseline = f"{row.baseline_label} {fmt(row.baseline, row.baseline_unit or b.unit)}".strip()
        else:
            baseline = row.baseline_label or "—"
        ratio = fmt_ratio(row.ratio) if (row.baseline_unit or b.unit) == b.unit else "—"
        out.append(f"| {b.what} | {at} | {b.budget} | {measured} | {baseline} | {ratio} | {verdict(row)} |")
    out.append("")
    if report.notes:
        out += ["Notes:", ""] + [f"- {n}" for n in report.notes] + [""]
    out.append(profiling.rstrip())
    return "\n".join(out) + "\n"


def write(path: Path, report: Report) -> str:
    """Write RESULTS.md, keeping the profiling section a person wrote into the previous one."""
    existing = path.read_text(encoding="utf-8") if path.exists() else None
    text = render(report, profiling_section(existing))
    path.write_text(text, encoding="utf-8")
    return text
