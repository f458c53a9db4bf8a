"""Train or reuse the runs of a chapter's plan without a notebook.

    python -m augrnn list ntm [--scale full]
    python -m augrnn train ntm --scale full [--seeds 3] [--seed 1] [--only 'copy-*'] [--retrain]

`train` follows the book's rule: at full scale a run whose stored result in data/results/ has the
same config is reused, unless --retrain; at smoke scale every run trains afresh under _build/runs/.
"""

from __future__ import annotations

import argparse
import sys

from ..core.config import SCALES, ConfigError
from ..core.runs import run, run_dir, select
from .chapters import CHAPTERS


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m augrnn", description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name, help_ in (("list", "list the runs of a chapter's plan"), ("train", "train or reuse them")):
        p = sub.add_parser(name, help=help_)
        p.add_argument("chapter", choices=list(CHAPTERS))
        p.add_argument("--scale", choices=SCALES, default="full")
        p.add_argument("--seeds", type=int, default=None, help="seeds of every headline run (default: the chapter's)")
        p.add_argument("--seed", type=int, default=None, help="only the runs with this seed")
        p.add_argument("--only", default=None, help="only the runs whose name matches this glob, e.g. 'copy-*'")
        if name == "train":
            p.add_argument("--retrain", action="store_true", help="train even where a stored result matches")
    args = ap.parse_args(argv)
    try:
        chosen = select(CHAPTERS[args.chapter].plan(args.scale, args.seeds), args.only, args.seed)
    except ConfigError as e:
        ap.error(str(e))
    for p in chosen:
        where = run_dir(p.chapter, p.name, args.scale)
        if args.cmd == "list":
            print(f"{p.name:40s} {type(p.config).__name__} {p.config.fingerprint()} {where}")
            continue
        r = run(p, args.scale, retrain=args.retrain)
        last = r.metrics.iloc[-1].to_dict() if len(r.metrics) else {}
        shown = ", ".join(f"{k}={v:.4g}" for k, v in last.items() if k not in ("step", "examples"))
        print(f"{p.name}: {r.provenance['wall_time_s']} s training; {shown}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
