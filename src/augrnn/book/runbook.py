"""Execute the book's notebooks with papermill, then build the HTML with Jupyter Book.

    python -m augrnn.book.runbook execute --scale smoke [--retrain] [-p NAME VALUE ...] [NOTEBOOK ...]
    python -m augrnn.book.runbook html

`execute` runs every notebook listed in _toc.yml (or those named) from book/ into
_build/executed/book/. Each output is written to a temporary file and moved into place only when the
notebook ran to the end, so a failed run leaves the earlier executed copy untouched. Wall times go to
_build/executed/timings.json (and, at full scale, data/results/timings.json, which the
reproducibility appendix reads).

`html` stages _config.yml, _toc.yml, references.bib, the Markdown pages and the executed notebooks
and the package's source under _build/stage and builds them with execution off and warnings as errors, into _build/html.
Jupyter Book never executes anything itself: its cache hashes only the code cells' text and would
serve stale outputs when src/ changes.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import yaml

from ..core import io, provenance
from ..core.config import SCALES

EXECUTED = Path("_build") / "executed"
STAGE = Path("_build") / "stage"


def toc_files(root: Path) -> list[Path]:
    """Every file named in _toc.yml, in book order, with its real suffix."""
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    names = [toc["root"]]

    def walk(entries):
        for e in entries or []:
            if "file" in e:
                names.append(e["file"])
            walk(e.get("sections"))
            for part in e.get("parts", []) or []:
                walk(part.get("chapters"))

    walk(toc.get("chapters"))
    for part in toc.get("parts", []) or []:
        walk(part.get("chapters"))
    out = []
    for name in names:
        hits = [root / f"{name}{s}" for s in (".ipynb", ".md") if (root / f"{name}{s}").exists()]
        if not hits:
            raise FileNotFoundError(f"_toc.yml names {name!r} but neither {name}.ipynb nor {name}.md exists")
        out.append(hits[0])
    return out


def parse_value(text: str):
    """Papermill parameters are plain literals: YAML reads 3, 0.5, true, [0, 1] and strings."""
    return yaml.safe_load(text)


def execute(root: Path, notebooks: list[Path], parameters: dict, scale: str) -> dict:
    import papermill as pm

    out_dir = root / EXECUTED
    timings_path = out_dir / "timings.json"
    os.environ.setdefault("AUGRNN_PROGRESS", "0")  # the kernels inherit it: no progress bars in the book
    for nb in notebooks:
        rel = nb.relative_to(root)
        target = out_dir / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.running.ipynb")
        params = {"scale": scale, **parameters}
        print(f"[runbook] {rel} scale={scale} {parameters or ''}", flush=True)
        t0, started = time.time(), provenance.now()
        try:
            pm.execute_notebook(
                str(nb),
                str(tmp),
                parameters=params,
                cwd=str(nb.parent),
                kernel_name="python3",
                progress_bar=False,
                log_output=False,
            )
        except pm.PapermillExecutionError as e:
            tmp.unlink(missing_ok=True)
            print(f"[runbook] FAILED {rel}: {e.ename}: {e.evalue}", file=sys.stderr, flush=True)
            raise SystemExit(1) from None
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        hide_injected_parameters(tmp)
        os.replace(tmp, target)
        seconds = round(time.time() - t0, 1)
        timings = io.read_json(timings_path) if timings_path.exists() else {}  # re-read: runs may overlap
        timings[f"{rel.stem}:{scale}"] = {"notebook": str(rel), "scale": scale, "wall_time_s": seconds}
        io.write_json(timings_path, timings)
        if scale == "full":
            record_full_run(root, rel.stem, seconds, started)
        print(f"[runbook] {rel}: {seconds:.1f} s", flush=True)


def hide_injected_parameters(path: Path) -> None:
    """Tag papermill's "injected-parameters" cell remove-cell: the book shows the chapter's own
    parameters cell (its defaults, with comments), not the runner's plumbing."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        tags = cell.metadata.get("tags", [])
        if "injected-parameters" in tags and "remove-cell" not in tags:
            cell.metadata["tags"] = [*tags, "remove-cell"]
    nbformat.write(nb, path)


def record_full_run(root: Path, chapter: str, seconds: float, started: str) -> None:
    """Keep the wall time of a full-scale execution in data/results/timings.json, apart for runs that
    trained (their time is the chapter's cost) and runs that only reused stored results."""
    trained = 0.0
    for path in (root / "data" / "results" / chapter).glob("*/provenance.json"):
        rec = io.read_json(path)
        if rec.get("finished", "") >= started:
            trained += rec.get("wall_time_s", 0.0)
    results = root / "data" / "results" / "timings.json"
    recorded = io.read_json(results) if results.exists() else {}
    kind = "with_training" if trained > 0 else "reusing_results"
    recorded.setdefault(chapter, {})[kind] = {
        "wall_time_s": seconds,
        "training_s": round(trained, 1),
        "finished": provenance.now()[:10],
        "threads": __import__("torch").get_num_threads(),
    }
    io.write_json(results, recorded)


def stage(root: Path) -> Path:
    """Copy what the book needs into _build/stage, the notebooks taken from their executed copies."""
    dest = root / STAGE
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    for name in ("_config.yml", "_toc.yml", "references.bib"):
        shutil.copy2(root / name, dest / name)
    for f in toc_files(root):
        rel = f.relative_to(root)
        src = root / EXECUTED / rel if f.suffix == ".ipynb" else f
        if not src.exists():
            raise SystemExit(f"[runbook] {rel} has not been executed yet: run `make book` (or runbook execute) first")
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dest / rel)
    for extra in (root / "book").glob("*.png"):
        shutil.copy2(extra, dest / "book" / extra.name)
    if (root / "_static").is_dir():  # the book's CSS (Jupyter Book includes every _static/*.css)
        shutil.copytree(root / "_static", dest / "_static")
    # The chapters include the package's code (literalinclude /src/augrnn/...): stage it beside them.
    shutil.copytree(
        root / "src" / "augrnn", dest / "src" / "augrnn", ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
    )
    return dest


def html(root: Path) -> Path:
    staged = stage(root)
    shutil.rmtree(root / "_build" / "html", ignore_errors=True)
    cmd = [
        sys.executable,
        "-m",
        "jupyter_book",
        "build",
        str(staged),
        "--path-output",
        str(root),
        "-W",
        "-n",
        "--keep-going",
    ]
    jb = shutil.which("jupyter-book", path=str(Path(sys.executable).parent))
    if jb:
        cmd = [jb, *cmd[3:]]
    print("[runbook]", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True, cwd=root)
    index = root / "_build" / "html" / "index.html"
    print(f"[runbook] built {index}")
    return index


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m augrnn.book.runbook", description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    ex = sub.add_parser("execute", help="run the chapters with papermill")
    ex.add_argument(
        "--scale", choices=SCALES, default="full", help="smoke: minutes, for tests; full: the published numbers"
    )
    ex.add_argument("--retrain", action="store_true", help="retrain even where data/results matches")
    ex.add_argument(
        "-p",
        "--parameter",
        nargs=2,
        action="append",
        default=[],
        metavar=("NAME", "VALUE"),
        help="pass a parameter to every notebook (a YAML literal)",
    )
    ex.add_argument("notebooks", nargs="*", help="notebooks to run (default: all in _toc.yml)")
    sub.add_parser("html", help="build _build/html from the executed notebooks")
    args = ap.parse_args(argv)

    root = io.repo_root()
    if args.cmd == "html":
        html(root)
        return
    params = {k: parse_value(v) for k, v in args.parameter}
    if args.retrain:
        params["retrain"] = True
    if args.notebooks:
        notebooks = [Path(n).resolve() for n in args.notebooks]
        missing = [str(n) for n in notebooks if not n.exists()]
        if missing:
            ap.error(f"no such notebook: {', '.join(missing)}")
    else:
        notebooks = [f for f in toc_files(root) if f.suffix == ".ipynb"]
    total = time.time()
    execute(root, notebooks, params, args.scale)
    print(f"[runbook] all chapters: {time.time() - total:.1f} s")


if __name__ == "__main__":
    main()
