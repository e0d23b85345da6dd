"""The early-warning job measured over many synthetic seasons at once, the scores pooled.

One season is a small sample (ten or twenty warnings): its precision moves by 0.1 from one seed to the
next. This runs ``flask alerts simulate --json`` for each seed in a scratch SQLite database of its own,
a few at a time, and prints each season's score and the pooled one: precision = true warnings ÷
warnings over all seasons, recall = predicted ÷ episodes, median lead over every predicted episode.

    .venv/bin/python scripts/simulate_seasons.py --seeds 1-8 --products 60 --days 120 --parallel 2
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FLASK = str(ROOT / ".venv" / "bin" / "flask")
TARGETS = {"recall": 0.9, "precision": 0.7, "median lead": 7}


def seeds(spec: str) -> list[int]:
    out: list[int] = []
    for part in spec.split(","):
        first, _, last = part.partition("-")
        out.extend(range(int(first), int(last or first) + 1))
    return out


def season(seed: int, products: int, days: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="season-") as scratch:
        env = {k: v for k, v in os.environ.items() if k not in ("CELERY_BROKER_URL", "ELASTICSEARCH_URL")}
        env.update(DATABASE_URL=f"sqlite:///{scratch}/season.sqlite", INSTANCE_PATH=scratch, FLASK_APP="wsgi",
                   LOG_LEVEL="ERROR", SMTP_HOST="")
        subprocess.run([FLASK, "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)  # noqa: S603
        command = [FLASK, "alerts", "simulate", "--json", "--seed", str(seed), "--products", str(products),
                   "--days", str(days)]
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)  # noqa: S603
        if done.returncode:
            raise SystemExit(f"seed {seed} failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
        return json.loads(done.stdout.strip().splitlines()[-1])


def ratio(part: int, whole: int) -> str:
    return f"{part / whole:.2f}" if whole else "-"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="1-8", help="e.g. 1-8 or 3,7,11 (default 1-8)")
    parser.add_argument("--products", type=int, default=60)
    parser.add_argument("--days", type=int, default=120)
    parser.add_argument("--parallel", type=int, default=max(1, (os.cpu_count() or 2) // 2))
    args = parser.parse_args()
    with ThreadPoolExecutor(args.parallel) as pool:
        results = list(pool.map(lambda s: season(s, args.products, args.days), seeds(args.seeds)))
    print(f"spoilage warnings, {args.products} products × {args.days} days per season")
    print(f"{'seed':>6}{'episodes':>10}{'predicted':>10}{'recall':>8}{'warnings':>10}{'true':>6}{'precision':>10}"
          f"{'median lead':>13}")
    leads: list[int] = []
    for r in results:
        leads.extend(r["leads"])
        lead = f"{statistics.median(r['leads']):.1f}" if r["leads"] else "-"
        print(f"{r['seed']:>6}{r['episodes']:>10}{r['predicted']:>10}{ratio(r['predicted'], r['episodes']):>8}"
              f"{r['warnings']:>10}{r['true_warnings']:>6}{ratio(r['true_warnings'], r['warnings']):>10}{lead:>13}")
    total = {k: sum(r[k] for r in results) for k in ("episodes", "predicted", "warnings", "true_warnings")}
    lead = f"{statistics.median(leads):.1f}" if leads else "-"
    print(f"{'pooled':>6}{total['episodes']:>10}{total['predicted']:>10}"
          f"{ratio(total['predicted'], total['episodes']):>8}{total['warnings']:>10}{total['true_warnings']:>6}"
          f"{ratio(total['true_warnings'], total['warnings']):>10}{lead:>13}")
    print("targets: " + ", ".join(f"{k} {v}" for k, v in TARGETS.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
