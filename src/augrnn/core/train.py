"""The one training loop every experiment shares.

An experiment is a `TrainConfig` subclass plus an object with three methods (the `Experiment`
protocol of `augrnn.core.experiment`):

    build_model(cfg) -> nn.Module
    batch(cfg, step, generator, device) -> batch             # seeded: same (seed, step) -> same batch
    loss(model, batch, cfg) -> (loss, {name: scalar tensor})  # metrics stay tensors in the hot loop

and optionally `evaluate(model, cfg, device) -> {name: float}`, called at every log step, and
`compile_model(model)`, which compiles the model's hot step in place when `cfg.compile` is set.

`fit` seeds everything, picks the device, clips gradients, writes the metrics CSV and an atomic
checkpoint every `checkpoint_every` steps, and resumes from that checkpoint when it finds one with the
same config fingerprint. Data for step t comes from a generator seeded by (seed, t), so a resumed run
sees exactly the batches the uninterrupted run would have seen.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pandas as pd
import torch
from tqdm.std import tqdm

from . import io, provenance
from .config import Config, ConfigError, TrainConfig
from .devices import compile_blocker, deterministic, pick_device, rng_states, set_rng_states, step_generator
from .update import Update


def learning_rate(cfg: TrainConfig, step: int) -> float:
    """Constant, then (with cfg.warmdown > 0) a linear fall to zero over the last steps."""
    start = cfg.steps * (1 - cfg.warmdown)
    if cfg.warmdown == 0 or step < start:
        return cfg.lr
    return cfg.lr * max(0.0, (cfg.steps - step) / (cfg.steps - start))


@dataclass
class Run:
    config: TrainConfig
    model: torch.nn.Module | None  # None for a run that keeps no weights (cfg.keep_weights)
    metrics: pd.DataFrame
    provenance: dict
    run_dir: Path | None
    evaluations: dict | None = None  # what such a run keeps instead: experiment.evaluations(model, cfg)

    def final(self) -> pd.Series:
        """The metrics of the stored model: its selected log step's (cfg.select_on), else the last."""
        chosen = self.provenance.get("selected")
        if chosen is None:
            return self.metrics.iloc[-1]
        return self.metrics[self.metrics["step"] == chosen["step"]].iloc[0]


class Interrupted(Exception):
    """Raised by `fit(..., stop_at=k)`: simulates a run killed after step k (for tests)."""


CHECKPOINT = "checkpoint.pt"
METRICS = "metrics.csv"
MODEL = "model.pt"
EVALUATIONS = "evaluations.json"
PROVENANCE = "provenance.json"


def fit(
    experiment,
    cfg: TrainConfig,
    run_dir: str | Path | None = None,
    *,
    progress: bool = True,
    stop_at: int | None = None,
    on_log: Callable[[dict], None] | None = None,
) -> Run:
    selectable = getattr(experiment, "selectable", ())
    if cfg.select_on and cfg.select_on not in selectable:
        allowed = ", ".join(map(repr, ("", *selectable)))
        raise ConfigError(
            f"select_on = {cfg.select_on!r} is not allowed for {type(experiment).__name__}; choose one of {allowed}"
        )
    if not cfg.keep_weights and not hasattr(experiment, "evaluations"):
        raise ConfigError(
            f"keep_weights = False needs an experiment with `evaluations`; {type(experiment).__name__} has none"
        )
    device = pick_device(cfg.device)
    deterministic(device)
    run_dir = Path(run_dir) if run_dir is not None else None
    fingerprint = cfg.fingerprint()

    torch.manual_seed(cfg.seed)
    data_seed = cfg.seed if cfg.data_seed < 0 else cfg.data_seed
    model = experiment.build_model(cfg).to(device)
    # Before compile_model: on a CPU the update makes the parameters views into one buffer.
    update = Update(cfg, model.parameters())
    compiled = False
    if cfg.compile and hasattr(experiment, "compile_model"):
        # The compiled step gives the eager numbers to float tolerance, so where torch.compile cannot
        # run the run trains eagerly rather than stopping; the provenance says which it was.
        blocker = compile_blocker(device)
        if blocker is None:
            experiment.compile_model(model)
            compiled = True
        else:
            print(f"compile = True: {blocker}; training eagerly (the same steps, rounded differently)", file=sys.stderr)
    start, rows, elapsed = 0, [], 0.0
    best = {"step": None, "value": None, "model": None}  # the selected model so far (cfg.select_on)

    ckpt_path = run_dir / CHECKPOINT if run_dir else None
    if ckpt_path is not None and ckpt_path.exists():
        ckpt = io.load_torch(ckpt_path, map_location=device, weights_only=False)
        # The reuse rule of stored runs: a field added to the config class since, at its default, keeps
        # the checkpoint (it changes no numbers), so an interrupted run survives a new option.
        if ckpt["fingerprint"] == fingerprint or ("config" in ckpt and same_experiment(ckpt["config"], cfg)):
            model.load_state_dict(ckpt["model"])
            update.load_state_dict(ckpt["optimizer"])
            set_rng_states(ckpt["rng"], device)
            start, rows, elapsed = ckpt["step"], ckpt["rows"], ckpt["elapsed"]
            best = ckpt.get("best", best)
        else:
            print(f"{ckpt_path}: checkpoint is from another config; starting afresh", file=sys.stderr)

    def checkpoint(step):
        if ckpt_path is None:
            return
        io.save_torch(
            ckpt_path,
            {
                "fingerprint": fingerprint,
                "config": cfg.to_dict(),
                "step": step,
                "rows": rows,
                "elapsed": elapsed + time.time() - t0,
                "model": model.state_dict(),
                "optimizer": update.state_dict(),
                "rng": rng_states(device),
                "best": best,
            },
        )
        io.write_text(run_dir / METRICS, pd.DataFrame(rows).to_csv(index=False))

    started = provenance.now()
    root = io.repo_root() if run_dir else None
    commit = provenance.git_commit(root) if root else "unknown"  # the code this run starts from
    t0 = time.time()
    sums: dict[str, torch.Tensor] = {}
    model.train()
    bar = tqdm(
        range(start, cfg.steps),
        initial=start,
        total=cfg.steps,
        disable=not progress,
        file=sys.stderr,
        mininterval=2.0,
        desc=type(cfg).__name__,
        leave=False,
    )
    for step in bar:
        if cfg.warmdown:
            for group in update.param_groups:
                group["lr"] = learning_rate(cfg, step)
        batch = experiment.batch(cfg, step, step_generator(data_seed, step, device), device)
        loss, metrics = experiment.loss(model, batch, cfg)
        update.zero_grad()
        loss.backward()
        update.step(step)  # clipping, gradient noise, the optimiser (core/update.py)
        # Accumulate on the device; the only host sync is at log steps.
        for k, v in metrics.items():
            v = v.detach()
            sums[k] = sums[k] + v if k in sums else v
        done = step + 1
        if done % cfg.log_every == 0 or done == cfg.steps:
            n = cfg.log_every if done % cfg.log_every == 0 else done % cfg.log_every
            # `seconds`: training wall time so far (held-out evaluations included), for time-to-target.
            row = {"step": done, "examples": done * cfg.batch_size, "seconds": round(elapsed + time.time() - t0, 2)}
            row.update({k: float(v) / n for k, v in sums.items()})
            if hasattr(experiment, "evaluate"):
                model.eval()
                with torch.no_grad():
                    row.update(experiment.evaluate(model, cfg, device))
                model.train()
            if cfg.select_on and (best["value"] is None or row[cfg.select_on] > best["value"]):
                state = {k: v.detach().clone() for k, v in model.state_dict().items()}
                best = {"step": done, "value": row[cfg.select_on], "model": state}
            rows.append(row)
            sums = {}
            if on_log:
                on_log(row)
            bar.set_postfix({k: f"{v:.3g}" for k, v in row.items() if k not in ("step", "examples")})
        if done % cfg.checkpoint_every == 0 or done == cfg.steps:
            checkpoint(done)
        if stop_at is not None and done >= stop_at and done < cfg.steps:
            bar.close()
            raise Interrupted(f"stopped after step {done}")
    bar.close()
    model.eval()
    if best["model"] is not None:  # the selected model replaces the last one
        model.load_state_dict(best["model"])

    record = {
        "commit": commit,
        "config": cfg.to_dict(),
        "config_class": type(cfg).__name__,
        "fingerprint": fingerprint,
        "seed": cfg.seed,
        "hardware": provenance.hardware(device),
        "versions": provenance.versions(),
        "started": started,
        "finished": provenance.now(),
        "wall_time_s": round(elapsed + time.time() - t0, 2),
        "steps": cfg.steps,
        "compiled": compiled,
    }
    if best["model"] is not None:
        record["selected"] = {"metric": cfg.select_on, "step": best["step"], "value": best["value"]}
    metrics = pd.DataFrame(rows)
    # Through JSON as stored, so a run trained now equals the same run loaded later.
    evaluations = None if cfg.keep_weights else json.loads(io.to_json(experiment.evaluations(model, cfg)))
    if run_dir is not None:
        io.write_text(run_dir / METRICS, metrics.to_csv(index=False))
        if cfg.keep_weights:
            io.save_torch(run_dir / MODEL, model.state_dict(), compress=True)
        else:
            io.write_json(run_dir / EVALUATIONS, evaluations)
        io.write_json(run_dir / PROVENANCE, record)
        ckpt_path.unlink(missing_ok=True)  # the finished model and metrics replace it
    if not cfg.keep_weights:  # as a stored run of it will be: its evaluations, no model
        return Run(cfg, None, metrics, record, run_dir, evaluations)
    return Run(cfg, model, metrics, record, run_dir)


def same_experiment(stored: dict, cfg: Config) -> bool:
    """Whether a stored run's config is `cfg`, allowing for fields added to the config class since
    the run was made: those must be at their default (which must keep the old behaviour), and fields
    outside the fingerprint (device, checkpoint cadence) are ignored. Nested configs (the
    model's) are compared field by field the same way."""
    for f in dataclasses.fields(cfg):
        if not f.metadata.get("fingerprint", True):
            continue
        value = getattr(cfg, f.name)
        if isinstance(value, Config):
            if not same_experiment(stored.get(f.name, {}), value):
                return False
        elif f.name in stored:
            if stored[f.name] != value:
                return False
        elif value != f.default:
            return False
    return set(stored) <= {f.name for f in dataclasses.fields(cfg)}


TIMING = ("seconds",)  # metrics columns that measure the machine, not the model


def numbers(metrics: pd.DataFrame) -> pd.DataFrame:
    """A run's metrics without its timing columns: what must be equal for the same seed and config."""
    return metrics.drop(columns=[c for c in TIMING if c in metrics.columns])


def stored_as(record: dict, cfg: Config) -> bool:
    """Whether a stored run's provenance record is a run of `cfg` (the reuse rule)."""
    return record.get("fingerprint") == cfg.fingerprint() or same_experiment(record["config"], cfg)


def load_run(experiment, cfg: TrainConfig, run_dir: str | Path) -> Run | None:
    """A finished run in `run_dir` with the same config fingerprint, or None."""
    run_dir = Path(run_dir)
    paths = [run_dir / p for p in (PROVENANCE, METRICS, MODEL if cfg.keep_weights else EVALUATIONS)]
    if not all(p.exists() for p in paths):
        return None
    record = io.read_json(run_dir / PROVENANCE)
    if not stored_as(record, cfg):
        return None
    if not cfg.keep_weights:
        evaluations = io.read_json(run_dir / EVALUATIONS)
        return Run(cfg, None, pd.read_csv(run_dir / METRICS), record, run_dir, evaluations)
    device = pick_device(cfg.device)
    model = experiment.build_model(cfg).to(device)
    model.load_state_dict(io.load_torch(run_dir / MODEL, map_location=device, weights_only=True))
    model.eval()
    return Run(cfg, model, pd.read_csv(run_dir / METRICS), record, run_dir)
