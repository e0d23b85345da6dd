"""The benchmark harness's bookkeeping: locust's CSV read back and RESULTS.md written (no server)."""

from __future__ import annotations

from bench import results
from bench.results import BUDGET_BY_KEY, Report, Row

# What locust 2.x writes to <prefix>_stats.csv (columns trimmed after 100%; the reader keys by name).
LOCUST_CSV = """\
Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,Min Response Time,\
Max Response Time,Average Content Size,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%
GET,/api/v1/search,1200,3,14,16.52,4.1,210.3,5120.0,39.9,0.1,14,17,19,21,26,31,44,60,200,210,210
GET,/healthz,800,0,2,2.3,0.9,15.0,16.0,26.6,0.0,2,2,3,3,3,4,6,8,15,15,15
GET,category page,0,0,0,0.0,0,0,0,0.0,0.0,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A
,Aggregated,2000,3,9,10.8,0.9,210.3,3078.4,66.5,0.1,9,14,16,18,22,28,40,55,200,210,210
"""


def test_locust_csv_is_read_per_request_name(tmp_path):
    path = tmp_path / "search_stats.csv"
    path.write_text(LOCUST_CSV, encoding="utf-8")

    stats = results.parse_locust_stats(path)

    assert set(stats) == {"/api/v1/search", "/healthz", "category page"}  # the Aggregated total is left out
    search = stats["/api/v1/search"]
    assert (search.method, search.requests, search.failures) == ("GET", 1200, 3)
    assert (search.median_ms, search.p95_ms, search.rps) == (14.0, 31.0, 39.9)
    assert stats["category page"].p95_ms is None  # locust writes N/A when nothing was measured


def test_median_and_nearest_rank_percentile():
    samples = [float(x) for x in range(1, 101)]
    assert results.median(samples) == 50.5
    assert results.percentile(samples, 95) == 95.0
    assert results.percentile([7.0], 95) == 7.0
    assert results.median([]) is None and results.percentile([], 95) is None


def _report(**extra) -> Report:
    rows = [
        Row(BUDGET_BY_KEY["search_median"], measured=14.0, baseline=3.5, baseline_label="raw SQL",
            at="100,000 products", products=100_000),
        Row(BUDGET_BY_KEY["search_p95"], measured=75.0, baseline=9.0, baseline_label="raw SQL", products=100_000),
        Row(BUDGET_BY_KEY["product_median"], measured=12.0, baseline=2.0, baseline_label="/healthz", products=2_000),
        Row(BUDGET_BY_KEY["checkout_rate"], measured=120.0, baseline=1500.0, baseline_label="pgbench"),
        Row(BUDGET_BY_KEY["dashboard"], note="not available yet (no completion dashboard in the URL map)"),
        Row(BUDGET_BY_KEY["warning_time"], measured=31.0, below_scale="below 2,000,000 lines"),
        Row(BUDGET_BY_KEY["checkout_oversell"], measured=0, baseline=None, extra="50 products raced for"),
    ]
    return Report(rows=rows, machine={"cores (/proc/cpuinfo)": "2", "memory (/proc/meminfo)": "23.5 GiB"},
                  run={"date": "2026-11-23 12:00 UTC", "commit": "abc1234"}, **extra)


def _table_line(text: str, what: str) -> list[str]:
    line = next(line for line in text.splitlines() if line.startswith(f"| {what} |"))
    return [cell.strip() for cell in line.strip("|").split("|")]


def test_results_table_gives_ratio_and_says_where_a_budget_is_missed(tmp_path):
    text = results.write(tmp_path / "RESULTS.md", _report())

    assert "| what | at | budget | measured | baseline | ratio | within budget? |" in text
    assert _table_line(text, "search endpoint latency, median") == [
        "search endpoint latency, median", "100,000 products", "20 ms", "14.0 ms", "raw SQL 3.5 ms", "4.00×", "yes"]
    assert _table_line(text, "search endpoint latency, p95")[-1] == "**NO**"  # 75 ms against 60 ms
    assert _table_line(text, "product page, median")[-1] == "yes (at 2,000 products only)"
    assert _table_line(text, "checkout, orders per second, 16 concurrent clients")[3:] == [
        "120.0/s", "pgbench 1,500.0/s", "0.08×", "yes"]
    dashboard = _table_line(text, "completion dashboard and unit ranking")
    assert dashboard[3].startswith("not available yet") and dashboard[-1] == "not available yet"
    assert _table_line(text, "early-warning job, time")[3:] == ["31.0 s", "—", "—", "**NO** (below 2,000,000 lines)"]
    assert _table_line(text, "checkout, units oversold")[3] == "0 units, 50 products raced for"
    assert "- cores (/proc/cpuinfo): 2" in text and "- commit: abc1234" in text
    assert "## What was changed after profiling" in text
    assert "Smoke run" not in text


def test_smoke_runs_are_labelled_and_the_profiling_notes_survive_a_rewrite(tmp_path):
    path = tmp_path / "RESULTS.md"
    results.write(path, _report())
    path.write_text(path.read_text(encoding="utf-8").replace(
        "| | | | |", "| search median | LIKE scan | trigram index | 80 ms → 14 ms |"), encoding="utf-8")

    text = results.write(path, _report(smoke=True))

    assert "**Smoke run at small scale.**" in text
    assert "| search median | LIKE scan | trigram index | 80 ms → 14 ms |" in text
    assert text.count("## What was changed after profiling") == 1


def _job(products: int, lines: int, seconds: float | None, peak_mb: float | None = 300.0, note: str = ""):
    from bench.harness import JobRun

    return JobRun({"products": products, "order_lines": lines, "consumer_lines": lines, "procurement_lines": 0,
                   "units": 15}, seconds, peak_mb, note)


def test_the_warning_job_is_reported_at_its_real_size_with_its_growth_against_the_products(tmp_path):
    from bench.harness import warning_rows

    time_row, memory_row, growth = warning_rows(_job(100_035, 2_000_986, 24.0, 410.0), _job(10_035, 200_120, 3.0))

    assert time_row.at == memory_row.at == "100,035 products, 2,000,986 order lines"
    assert (time_row.measured, memory_row.measured) == (24.0, 410.0)
    assert growth.measured == 8.0 and round(growth.budget.limit, 2) == 9.97  # 24 s ÷ 3 s against 100,035 ÷ 10,035
    text = results.write(tmp_path / "RESULTS.md", Report(rows=[time_row, memory_row, growth], machine={}, run={}))
    assert _table_line(text, "early-warning job, time")[1:] == [
        "100,035 products, 2,000,986 order lines", "30 s", "24.0 s", "—", "—", "yes"]
    line = _table_line(text, "early-warning job, growth of its time")
    assert line[1:4] == ["10,035 → 100,035 products", "≤ 9.97× (linear)", line[3]] and line[-1] == "yes"
    assert line[3].startswith("8.00×, 3.0 s at 10,035 products, 200,120 order lines → 24.0 s")

    slower = warning_rows(_job(100_000, 1_000_000, 40.0), _job(10_000, 100_000, 2.0))
    assert [r.within for r in slower] == [False, True, False]  # 20× the time for 10× the products
    assert slower[0].below_scale == "below 2,000,000 order lines"


def test_a_job_that_did_not_run_says_why_instead_of_a_figure():
    from bench.harness import warning_rows

    missing = warning_rows(None, None)
    assert all(r.measured is None and r.note.startswith("not available yet") for r in missing)
    reused = warning_rows(_job(100_000, 2_000_000, None, None, note="not re-measured: already run today"),
                          _job(10_000, 200_000, 2.0))
    assert reused[0].note == reused[2].note == "not re-measured: already run today"
    assert warning_rows(_job(100_000, 2_000_000, 20.0), None)[2].note == "not measured (BENCH_GROWTH_SCALE=0)"


def test_the_bench_sizes_default_to_the_budgets_and_the_growth_database_is_named_for_the_bench(monkeypatch):
    from bench.harness import Settings, growth_url

    for name in ("BENCH_SCALE", "BENCH_UNITS", "BENCH_LINES_PER_PRODUCT", "BENCH_GROWTH_SCALE"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings.from_env()
    assert (settings.scale, settings.units, settings.lines_per_product, settings.growth_scale) == (
        100_000, 10_000, 20, 10_000)
    monkeypatch.setenv("BENCH_SCALE", "2000")
    assert Settings.from_env().growth_scale == 200
    assert growth_url("postgresql://postgres@127.0.0.1:5432/bench") == "postgresql://postgres@127.0.0.1:5432/bench_growth"
