import torch

from augrnn.act.logic import CHUNK, GATES, WIDTH, Logic, LogicConfig, gate, logic_batch, sequence_errors
from augrnn.core.train import fit

# Table 1 of the paper, written out by name: gate -> its value at (P, Q).
BY_HAND = {
    "NOR": lambda p, q: not (p or q),
    "Xq": lambda p, q: (not p) and q,
    "ABJ": lambda p, q: p and not q,
    "XOR": lambda p, q: p != q,
    "NAND": lambda p, q: not (p and q),
    "AND": lambda p, q: p and q,
    "XNOR": lambda p, q: p == q,
    "if/then": lambda p, q: (not p) or q,
    "then/if": lambda p, q: p or not q,
    "OR": lambda p, q: p or q,
}


def test_truth_table_is_table_1():
    for g, name in enumerate(GATES):
        for p in (0, 1):
            for q in (0, 1):
                got = int(gate(torch.tensor(g), torch.tensor(p), torch.tensor(q)))
                assert got == int(BY_HAND[name](bool(p), bool(q))), (name, p, q)


def test_targets_follow_the_recursion_written_plainly():
    cfg = LogicConfig()
    b = logic_batch(cfg, 64, torch.Generator().manual_seed(3), "cpu")
    assert b["x"].shape == (64, cfg.max_length, WIDTH)
    for s in range(64):
        prev = None
        for t in range(int(b["lengths"][s])):
            v = b["x"][s, t]
            b0 = int(v[0]) if t == 0 else prev
            if t > 0:
                assert v[0] == 0  # the carried bit is never shown again
            q, p = b0, int(v[1])
            chunks = v[2:].view(-1, CHUNK)
            used = [c for c in chunks if c.sum() > 0]
            assert 1 <= len(used) <= 10 and all(c.sum() == 0 for c in chunks[len(used) :])
            for c in used:
                q, p = p, int(BY_HAND[GATES[int(c.argmax())]](bool(p), bool(q)))
            assert int(b["y"][s, t]) == p
            prev = p


def test_sequence_error_counts_only_real_vectors():
    b = {"y": torch.tensor([[1.0, 0.0], [1.0, 0.0]]), "mask": torch.tensor([[True, False], [True, True]])}
    logits = torch.tensor([[5.0, 5.0], [5.0, 5.0]])  # both wrong at t = 1, which is padding in row 0
    assert sequence_errors(logits, b).tolist() == [False, True]


def test_act_and_plain_lstm_train_and_report_ponder():
    for act in ("act", "none"):
        cfg = LogicConfig(
            steps=3, batch_size=4, max_length=3, eval_size=8, log_every=1, model={"act": act, "hidden": 8}
        )
        run = fit(Logic(), cfg, progress=False)
        last = run.metrics.iloc[-1]
        assert 0 <= last["test_error"] <= 1
        assert (last["test_ponder"] == 1.0) if act == "none" else (last["test_ponder"] >= 1.0)


def test_packed_forward_gives_the_whole_batchs_numbers_on_the_real_vectors():
    """With lengths, step t runs only the sequences longer than t; the real vectors' outputs, the
    masked loss and its gradients are the whole batch's to float rounding, and the rest are zero."""
    for act in ("act", "none"):
        cfg = LogicConfig(model={"act": act, "hidden": 16}, tau=0.01)
        torch.manual_seed(0)
        model = Logic().build_model(cfg)
        b = logic_batch(cfg, 48, torch.Generator().manual_seed(3), "cpu")
        assert b["lengths"].min() < cfg.max_length  # some sequences are shorter: there is padding
        params = list(model.parameters())
        whole_logits, whole_ponder = model(b["x"])
        packed_logits, packed_ponder = model(b["x"], b["lengths"])
        real = b["mask"]
        for whole, packed in ((whole_logits, packed_logits), (whole_ponder, packed_ponder)):
            torch.testing.assert_close(packed[real], whole[real], rtol=1e-5, atol=1e-5)
            assert (packed[~real] == 0).all()

        def masked_loss(logits, ponder):
            mask = real.float()
            bce = torch.nn.functional.binary_cross_entropy_with_logits(logits, b["y"], reduction="none")
            return ((bce + cfg.tau * ponder) * mask).sum(1).mean()

        whole_grads = torch.autograd.grad(masked_loss(whole_logits, whole_ponder), params)
        packed_grads = torch.autograd.grad(masked_loss(packed_logits, packed_ponder), params)
        for w, p in zip(whole_grads, packed_grads):
            torch.testing.assert_close(p, w, rtol=1e-5, atol=1e-6)
