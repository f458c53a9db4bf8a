import torch

from augrnn.attention.seq2seq import sequence_loss
from augrnn.attention.translation import EOS, PAD, UNK, Translation, TranslationConfig, Vocab, corpus
from augrnn.datasets.cldr import FRAMES, make_pairs, split_of, tokenize


def test_tokenize_splits_digits_and_cldr_spaces():
    assert tokenize("1\u202f234,50\xa0€") == ["1", "2", "3", "4", ",", "5", "0", "€"]
    assert tokenize("November 22, 2026") == ["november", "2", "2", ",", "2", "0", "2", "6"]


def test_pairs_are_deterministic_and_show_the_reorderings():
    a = make_pairs(50, "train", 3)
    assert a == make_pairs(50, "train", 3) and a != make_pairs(50, "train", 4)
    text = [(" ".join(e), " ".join(f)) for e, f in make_pairs(400, "train", 0, max_clauses=1)]
    months = [(e, f) for e, f in text if e.split()[0] in ("january", "june", "november") and len(e.split()) == 8]
    assert months, "some clauses are bare dates"
    e, f = months[0]
    assert f.split()[2] == e.split()[0][:3] or f.split()[2] in ("janvier", "juin", "novembre")


def test_no_test_phrase_occurs_in_training():
    from augrnn.datasets import cldr as C

    rng = __import__("random").Random(0)
    for split in ("train", "test"):
        for _ in range(50):
            en, _ = C._clause(rng, split)
            assert en  # every frame could be filled from this split
    assert split_of("France") in ("train", "test")
    train_text = {" ".join(e) for e, _ in make_pairs(300, "train", 0)}
    test_text = {" ".join(e) for e, _ in make_pairs(100, "test", 0)}
    assert not train_text & test_text


def test_vocab_round_trip_and_unknown_words():
    v = Vocab([["a", "b"], ["c"]])
    assert v.decode(v.encode(["a", "c"], eos=True) + [5]) == ["a", "c"]
    assert v.encode(["zzz"]) == [UNK] and v.encode([], eos=True) == [EOS]


def test_translation_batches_and_a_few_steps_reduce_the_loss():
    from augrnn.core.train import fit

    cfg = TranslationConfig(
        train_pairs=200,
        test_pairs=20,
        max_clauses=1,
        steps=30,
        batch_size=16,
        log_every=10,
        lr=3e-3,
        model={"embed": 16, "hidden": 32},
        max_out=30,
    )
    exp = Translation()
    b = exp.batch(cfg, 0, torch.Generator().manual_seed(0), torch.device("cpu"))
    assert b["src"].shape[0] == 16 and len(b["len"]) == 16 and max(b["len"]) == b["src"].shape[1]
    assert b["tgt_len"] == (b["tgt"] != 0).sum(1).tolist()  # the decoder's real steps: EOS included
    assert set(corpus(200, 20, 1, 0)) >= {"src", "tgt", "train_enc", "test_enc"}
    m = fit(exp, cfg, None, progress=False).metrics
    assert m["loss"].iloc[-1] < m["loss"].iloc[0]
    assert 0 <= m["test_bleu"].iloc[-1] <= 100
    assert len(FRAMES) >= 8


def test_bleu_by_length_scores_groups_and_their_sentences_without_unknown_words():
    from augrnn.attention.translation import bleu_by_length

    srcs = [["a", "b"], ["a", "zz"], ["a", "b", "c", "d"]]
    refs = [["x", "y", "z", "w"], ["x", "y", "z", "w"], ["p", "q", "r", "s"]]
    hyps = [["x", "y", "z", "w"], ["q", "q", "q", "q"], ["p", "q", "r", "s"]]
    scores = {("m", 0): {"srcs": srcs, "refs": refs, "hyps": hyps}}
    plain = bleu_by_length(scores, bins=(0, 2, 4))
    assert list(plain["n"]) == [2, 1] and "sentences" not in plain
    t = bleu_by_length(scores, bins=(0, 2, 4), known={"a", "b", "c", "d"}).set_index(["source length", "sentences"])
    assert t.loc[("1-2", "all"), "n"] == 2 and t.loc[("1-2", "no unknown words"), "n"] == 1
    assert round(t.loc[("1-2", "no unknown words"), "BLEU"], 6) == 100.0 > t.loc[("1-2", "all"), "BLEU"]
    assert t.loc[("1-2", "all"), "unknown words per sentence"] == 0.5


def test_the_loss_over_the_real_steps_is_the_padded_loss_with_pad_ignored():
    """Translation.loss scores the decoder's packed real steps; the padded B x T x V logits with PAD
    ignored give the same mean over the same tokens, and the same gradients."""
    cfg = TranslationConfig(
        train_pairs=200, test_pairs=20, max_clauses=2, batch_size=12, model={"embed": 8, "hidden": 16}
    )
    exp = Translation()
    torch.manual_seed(0)
    model = exp.build_model(cfg)
    b = exp.batch(cfg, 0, torch.Generator().manual_seed(0), torch.device("cpu"))
    assert min(b["tgt_len"]) < b["tgt"].shape[1]  # some rows padded: the two losses see different tensors
    results = []
    padded = lambda: sequence_loss(model(b["src"], b["len"], b["tgt"]).logits, b["tgt"], ignore_index=PAD)
    for loss_of in (lambda: exp.loss(model, b, cfg)[0], padded):
        model.zero_grad()
        loss = loss_of()
        loss.backward()
        results.append((loss.detach(), [p.grad.clone() for p in model.parameters()]))
    (real, real_grads), (padded, padded_grads) = results
    assert torch.allclose(real, padded, atol=1e-6)
    assert all(torch.allclose(g, h, atol=1e-6) for g, h in zip(real_grads, padded_grads))
