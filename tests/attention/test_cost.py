from augrnn.attention.cost import cost_table, decode_seconds, saved_bytes


def test_memory_for_backward_grows_with_the_source_only_with_attention():
    small = {k: saved_bytes(k, 4, tokens=6, batch=2, dim=8, vocab=20) for k in ("additive", "dot", None)}
    large = {k: saved_bytes(k, 40, tokens=6, batch=2, dim=8, vocab=20) for k in ("additive", "dot", None)}
    assert large[None] == small[None]
    assert large["dot"] > small["dot"] and large["additive"] > small["additive"]
    # additive scores keep a tanh over B x T x N x A; dot keeps only the weights: cheaper
    assert large["additive"] - small["additive"] > large["dot"] - small["dot"]
    assert saved_bytes("dot", 40, tokens=6, batch=2, dim=8, vocab=20) == large["dot"]  # exact, repeatable


def test_cost_table_has_a_row_per_decoder_and_length():
    assert decode_seconds(None, 3, tokens=2, batch=2, dim=8, vocab=10, repeats=1) > 0
    t = cost_table(sources=(3, 6), tokens=2, batch=2, repeats=1)
    assert len(t) == 5 * 2 and set(t["decoder"]) == {"additive", "dot", "scaled_dot", "general", "no attention"}
    assert (t.loc[t.decoder == "no attention", "attention values per sequence"] == 0).all()
