import pytest
import torch

from augrnn.attention.seq2seq import Decoder, Encoded, TextEncoder, sequence_loss

BOS, EOS = 1, 2


def toy(batch=3, vocab=9, seed=0):
    g = torch.Generator().manual_seed(seed)
    lengths = [5, 3, 4][:batch]
    tokens = torch.zeros(batch, 5, dtype=torch.long)
    for i, n in enumerate(lengths):
        tokens[i, :n] = torch.randint(3, vocab, (n,), generator=g)
    return tokens, lengths


@pytest.mark.parametrize("kind", ["additive", "dot", "scaled_dot", "general"])
def test_attention_ignores_padding_and_gradient_reaches_the_encoder(kind):
    torch.manual_seed(0)
    enc_net = TextEncoder(9, 8, 8)
    dec = Decoder(9, enc_net.dim, embed=8, hidden=16 if "dot" not in kind else enc_net.dim, attention=kind)
    tokens, lengths = toy()
    enc = enc_net(tokens, lengths)
    inputs = torch.tensor([[BOS, 4, 5, 6]] * 3)
    logits, weights, _ = dec(enc, inputs)
    assert logits.shape == (3, 4, 9) and weights.shape == (3, 4, 5)
    assert torch.all(weights[1, :, 3:] == 0) and torch.all(weights[2, :, 4:] == 0)
    assert torch.allclose(weights.sum(-1), torch.ones(3, 4))
    logits.sum().backward()
    assert enc_net.embed.weight.grad.abs().sum() > 0


def test_gradient_flows_to_the_annotations_only_through_the_weights_with_attention():
    torch.manual_seed(0)
    ann = torch.randn(2, 4, 6, requires_grad=True)
    summary = torch.randn(2, 6)
    enc = Encoded(ann, torch.ones(2, 4, dtype=torch.bool), summary)
    for attention, expect in (("additive", True), (None, False)):
        dec = Decoder(7, 6, embed=4, hidden=5, attention=attention)
        ann.grad = None
        logits = dec(enc, torch.tensor([[BOS, 3], [BOS, 4]])).logits
        logits.sum().backward()
        reached = ann.grad is not None and bool(ann.grad.abs().sum() > 0)
        assert reached == expect


def test_beam_of_one_is_greedy_and_a_wider_beam_scores_at_least_as_well():
    torch.manual_seed(3)
    enc_net, dec = TextEncoder(9, 8, 8), Decoder(9, 16, embed=8, hidden=16)
    tokens, lengths = toy()
    enc = enc_net(tokens, lengths)
    greedy, _ = dec.greedy(enc, BOS, EOS, max_len=6)
    one = dec.beam(enc, BOS, EOS, max_len=6, k=1)
    assert torch.equal(greedy, one)

    def logprob(seq):
        inputs = torch.cat([torch.full((3, 1), BOS), seq[:, :-1]], 1)
        logits = dec(enc, inputs).logits
        lp = torch.log_softmax(logits, -1).gather(-1, seq.unsqueeze(-1)).squeeze(-1)
        alive = torch.cumsum((seq == EOS).long(), 1) - (seq == EOS).long() == 0  # up to and incl. EOS
        return (lp * alive).sum(1)

    wide = dec.beam(enc, BOS, EOS, max_len=6, k=5)
    assert torch.all(logprob(wide) >= logprob(greedy) - 1e-5)


def test_hard_decoder_reads_one_annotation_drawn_from_the_weights():
    torch.manual_seed(0)
    enc_net = TextEncoder(9, 8, 8)
    dec = Decoder(9, enc_net.dim, embed=8, hidden=16, read="hard")
    tokens, lengths = toy()
    enc = enc_net(tokens, lengths)
    inputs = torch.tensor([[BOS, 4, 5, 6]] * 3)
    noise = torch.rand(3, 4, 5, generator=torch.Generator().manual_seed(1))
    out = dec(enc, inputs, noise)
    assert out.log_choice.shape == (3, 4) and torch.all(out.log_choice <= 0)
    # the same noise gives the same draws; the test-time read (no noise) is the most likely slot
    assert torch.equal(out.log_choice, dec(enc, inputs, noise).log_choice)
    argmax = dec(enc, inputs)
    assert torch.allclose(argmax.log_choice, argmax.weights.max(-1).values.log())
    # the log-probability of the draw carries gradient to the scores; no padding slot is ever read
    out.log_choice.sum().backward()
    assert dec.attention.v.grad.abs().sum() > 0
    assert torch.all(out.log_choice > -1e3)


def test_hard_read_needs_a_score_function():
    with pytest.raises(ValueError, match="read = 'hard' needs an attention"):
        Decoder(9, 16, attention=None, read="hard")
    with pytest.raises(ValueError, match="read = 'sideways'; choose 'soft' or 'hard'"):
        Decoder(9, 16, read="sideways")


@pytest.mark.parametrize("read", ["soft", "hard"])
def test_teacher_forcing_gives_the_numbers_of_step_by_step_decoding(read):
    """forward runs the embeddings and output layer once over all steps; `step` (greedy, beam) runs
    them one step at a time: the same logits, weights and hard-read log-probabilities."""
    torch.manual_seed(4)
    enc_net, dec = TextEncoder(9, 8, 8), Decoder(9, 16, embed=8, hidden=16, read=read)
    tokens, lengths = toy()
    enc = enc_net(tokens, lengths)
    inputs = torch.randint(0, 9, (3, 6))
    noise = torch.rand(3, 6, 5) if read == "hard" else None
    whole = dec(enc, inputs, noise)
    state, prepared = dec.start(enc)
    for t in range(6):
        lg, state, w, lp = dec.step(inputs[:, t], state, prepared, enc, None if noise is None else noise[:, t])
        assert torch.allclose(whole.logits[:, t], lg, atol=1e-6) and torch.allclose(whole.weights[:, t], w)
        if read == "hard":
            assert torch.allclose(whole.log_choice[:, t], lp)


@pytest.mark.parametrize(
    "attention,read", [("additive", "soft"), ("dot", "soft"), (None, "soft"), ("additive", "hard")]
)
def test_decoding_only_the_real_steps_gives_the_full_decoders_loss_and_gradients(attention, read):
    torch.manual_seed(0)
    enc_net = TextEncoder(20, 8, 8)
    dec = Decoder(
        20, enc_net.dim, embed=8, hidden=16 if attention != "dot" else enc_net.dim, attention=attention, read=read
    )
    src, src_len = torch.randint(4, 20, (6, 7)), [7, 3, 5, 7, 2, 4]
    out_len = [5, 6, 2, 6, 1, 3]
    tgt = torch.randint(4, 20, (6, 6))
    for i in range(6):
        src[i, src_len[i] :], tgt[i, out_len[i] :] = 0, 0
    real = tgt != 0
    noise = torch.rand(6, 6, 7) if read == "hard" else None
    expected = torch.tensor([True, False, True, False, False, True]) if read == "hard" else None
    results = []
    for lengths in (None, out_len):
        enc_net.zero_grad()
        dec.zero_grad()
        out = dec(enc_net(src, src_len), tgt, noise, expected, lengths=lengths)
        loss = sequence_loss(out.logits, tgt, ignore_index=0) + (out.weights * real.unsqueeze(-1)).sum()
        if read == "hard":
            loss = loss + (out.log_choice * real).sum()
        loss.backward()
        grads = [p.grad.clone() for p in [*enc_net.parameters(), *dec.parameters()] if p.grad is not None]
        results.append((loss.detach(), grads, out))
    (loss, grads, full), (loss_p, grads_p, packed) = results
    assert torch.allclose(loss, loss_p, atol=1e-5) and len(grads) == len(grads_p)
    assert all(torch.allclose(g, gp, atol=1e-5) for g, gp in zip(grads, grads_p))
    assert torch.allclose(full.logits[real], packed.logits[real], atol=1e-5)
    assert torch.all(packed.logits[~real] == 0) and torch.all(packed.weights[~real] == 0)
