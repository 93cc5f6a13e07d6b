"""Run-to-run spread of the magnetic-tile benchmark: one line per run, then per recipe (model and
every training setting but the seed) the mean, the lowest, and how many runs reach the aim.

Reads the JSON files `bench_training.py --json F` writes; the settings come from each run's
config.json (the run folder beside the JSON's work folder, or where the JSON names it). Runs of
several seeds side by side, one per work folder, then:

    python benchmarks/seed_summary.py WORK_S0/result.json WORK_S1/result.json ... [--aim 0.70]
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from statistics import mean

# settings that say where or how fast a run went, not what it learned
_NOT_RECIPE = {"seed", "data", "val", "out", "threads", "time_limit_min", "resume", "device", "limit_images"}


def runs(paths: list[Path]) -> list[dict]:
    """One dict per (JSON file, model) with the run's figures and its training settings."""
    found = []
    for path in paths:
        try:
            report = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise SystemExit(f"{path}: not a bench_training.py JSON file ({exc})") from None
        for model, s in (report.get("real") or {}).items():
            run_dir = Path(s["run"]) if s.get("run") else path.parent / f"run_real_{model}"
            try:
                train = json.loads((run_dir / "config.json").read_text())["train"]
            except (OSError, ValueError, KeyError):
                train = {"model": model}
            found.append({"file": str(path), "model": model, "seed": s.get("seed", train.get("seed")),
                          "train": train, **s})
    return found


def recipe(run: dict) -> str:
    def same(v):  # 4 and 4.0 are one setting (--real-set area_sampling=4 against the recipe's 4.0)
        return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v

    return json.dumps({k: same(v) for k, v in run["train"].items() if k not in _NOT_RECIPE}, sort_keys=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("json", type=Path, nargs="+", help="result files of bench_training.py --json")
    ap.add_argument("--aim", type=float, default=0.70, help="defect IoU a run should reach (default 0.70)")
    args = ap.parse_args()
    all_runs = runs(args.json)
    if not all_runs:
        raise SystemExit("no magnetic-tile results in these files (bench_training.py --data ... --json F)")
    groups: dict[str, list[dict]] = {}
    for r in all_runs:
        groups.setdefault(recipe(r), []).append(r)
    for number, rs in enumerate(groups.values(), 1):
        t = rs[0]["train"]
        print(f"# recipe {number}: {rs[0]['model']}, lr {t.get('lr')}, {t.get('epochs')} epochs, "
              f"area_sampling {t.get('area_sampling')}, weight_decay {t.get('weight_decay')}, "
              f"scale {t.get('scale')}, crop {t.get('crop')}, model {t.get('model_overrides')}")
        for r in sorted(rs, key=lambda r: (r["seed"] is None, r["seed"])):
            lo, hi = r.get("iou_defect_interval90", (float("nan"), float("nan")))
            print(f"  seed {r['seed']}: defect IoU {r['iou_defect']:.3f} (90 % over the test tiles {lo:.3f}-{hi:.3f}), "
                  f"MIoU {r['miou']:.3f}, {r['epochs']} epochs, threshold {r['threshold']}, {r['minutes']:.0f} min")
        ious = [r["iou_defect"] for r in rs]
        reached = sum(v >= args.aim for v in ious)
        print(f"  {len(rs)} run{'s' if len(rs) != 1 else ''}: mean defect IoU {mean(ious):.3f}, lowest {min(ious):.3f}, highest {max(ious):.3f}; "
              f"{reached} of {len(rs)} at or above {args.aim:.2f}; mean MIoU {mean(r['miou'] for r in rs):.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
