"""The Neural Programmer's training step, batched over questions and tables, against the same model
run one question at a time (the naive loop a first implementation writes).

    .venv/bin/python benchmarks/np_step.py [--device auto|cpu|cuda] [--batch 64] [--columns 3]

Times forward + backward of the loss on one batch of synthetic table questions.
"""

import argparse

import torch

from augrnn.core.devices import pick_device
from augrnn.programmer import model as NP
from augrnn.programmer import tables
from timing import timeit


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default="auto")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--columns", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=5.0)
    args = ap.parse_args()
    device = pick_device(args.device)
    cfg = NP.ProgrammerConfig(columns=args.columns, model={"hidden": 64, "embed": 64})
    torch.manual_seed(0)
    model = NP.NeuralProgrammer(cfg.model).to(device)
    b = tables.make_batch(args.batch, cfg.rows, cfg.columns, torch.Generator(device=device).manual_seed(0), device)
    task = NP.TableQA()

    def batched():
        task.loss(model, b, cfg)[0].backward()

    def per_question():
        for i in range(args.batch):
            task.loss(model, {k: v[i : i + 1] for k, v in b.items()}, cfg)[0].backward()

    print(
        f"device={device} batch={args.batch} columns={args.columns} threads={torch.get_num_threads()} "
        f"torch={torch.__version__}"
    )
    t_batch = timeit(batched, device, args.seconds)
    t_loop = timeit(per_question, device, args.seconds)
    print(f"{'mode':24s} {'questions/s':>12s}")
    print(f"{'per-question loop':24s} {args.batch / t_loop:12.0f}")
    print(f"{'batched':24s} {args.batch / t_batch:12.0f}   ({t_loop / t_batch:.1f}x)")


if __name__ == "__main__":
    main()
