// The soft decoder's steps with additive attention, forward and backward: attention/decode.py's
// _Decode, operation for operation, with the same ATen calls in the same order. So the
// numbers are the same to the last bit (tests/attention/test_decode.py). A decoder step is a few dozen
// small calls, for each of which Python and torch pay a few microseconds; here the loop runs in C++.
// core/native.py builds it (CPU tensors, float32 or float64).

#include <ATen/ATen.h>
#include <torch/csrc/utils/pybind.h>

#include <limits>
#include <optional>
#include <vector>

using at::Tensor;

// nn.GRUCell as ATen's CPU GRUCell computes it (the same calls): the new state, gh (its chunks then r, z
// and W_hn s + b_hn) and n.
std::vector<Tensor> gru(const Tensor& inp, const Tensor& s, const Tensor& w_ih_t, const Tensor& w_hh_t,
                        const Tensor& b_ih, const Tensor& b_hh) {
  Tensor gi = at::addmm(b_ih, inp, w_ih_t), gh = at::addmm(b_hh, s, w_hh_t);
  auto i = gi.unsafe_chunk(3, 1), h = gh.unsafe_chunk(3, 1);
  Tensor r = h[0].add_(i[0]).sigmoid_();
  Tensor z = h[1].add_(i[1]).sigmoid_();
  Tensor n = i[2].add(h[2] * r).tanh_();
  return {(s - n).mul_(z).add_(n), gh, n};
}

// Returns {states, contexts, weights} (R x H, R x D, R x N) and what the backward reads: the sigmoids
// R x N x A, the cell's inputs R x (E + D), gh R x 3H and n R x H.
std::vector<Tensor> forward(const Tensor& embs, const Tensor& s0, const Tensor& prepared, const Tensor& annotations,
                            const Tensor& mask, const Tensor& w_a, const Tensor& v, const Tensor& w_ih,
                            const Tensor& w_hh, const Tensor& b_ih, const Tensor& b_hh,
                            const std::vector<int64_t>& sizes) {
  const int64_t R = embs.size(0), A = w_a.size(0), D = annotations.size(-1), H = s0.size(-1), N = mask.size(1);
  const auto opt = embs.options();
  Tensor states = at::empty({R, H}, opt), contexts = at::empty({R, D}, opt), weights = at::empty({R, N}, opt);
  Tensor sigs = at::empty({R, N, A}, opt), inps = at::empty({R, embs.size(1) + D}, opt);
  Tensor ghs = at::empty({R, 3 * H}, opt), ns = at::empty({R, H}, opt);
  const Tensor closed = mask.logical_not(), v_sum = v.sum(), w_a_t = w_a.t(), w_ih_t = w_ih.t(),
               w_hh_t = w_hh.t();
  const double inf = std::numeric_limits<double>::infinity();
  Tensor s = s0;
  int64_t start = 0;
  for (const int64_t n : sizes) {
    s = s.slice(0, 0, n);
    Tensor x = (at::mm(s, w_a_t).unsqueeze(1) + prepared.slice(0, 0, n)).mul_(2);
    // Each step's tensors are new ones, copied into the buffers: MKL's products round differently where
    // an input starts at another alignment, as a row of a buffer may, and the loop's numbers would change.
    Tensor sig = at::sigmoid(x);
    sigs.slice(0, start, start + n).copy_(sig);
    Tensor scores = (at::matmul(sig, v) * 2 - v_sum).masked_fill_(closed.slice(0, 0, n), -inf);
    Tensor w = at::softmax(scores, -1);
    weights.slice(0, start, start + n).copy_(w);
    Tensor context = at::bmm(w.unsqueeze(1), annotations.slice(0, 0, n)).squeeze(1);
    contexts.slice(0, start, start + n).copy_(context);
    Tensor inp = at::cat({embs.slice(0, start, start + n), context}, -1);
    inps.slice(0, start, start + n).copy_(inp);
    auto cell = gru(inp, s, w_ih_t, w_hh_t, b_ih, b_hh);
    s = cell[0];
    states.slice(0, start, start + n).copy_(s);
    ghs.slice(0, start, start + n).copy_(cell[1]);
    ns.slice(0, start, start + n).copy_(cell[2]);
    start += n;
  }
  return {states, contexts, weights, sigs, inps, ghs, ns};
}

// The gradients of embs, s0, prepared, annotations, w_a, v, w_ih, w_hh, b_ih and b_hh.
std::vector<Tensor> backward(const std::vector<int64_t>& sizes, const Tensor& s0, const Tensor& prepared,
                             const Tensor& annotations, const Tensor& w_a, const Tensor& v, const Tensor& w_ih,
                             const Tensor& w_hh, const Tensor& states, const Tensor& weights,
                             const std::vector<Tensor>& saved, const std::optional<Tensor>& d_states,
                             const std::optional<Tensor>& d_contexts, const std::optional<Tensor>& d_weights) {
  const Tensor &sigs = saved[0], &inps = saved[1], &ghs = saved[2], &ns = saved[3];
  const int64_t T = sizes.size(), e = inps.size(1) - annotations.size(-1), H = states.size(1);
  const Tensor w_ih_context = w_ih.slice(1, e);
  Tensor d_prepared = at::zeros_like(prepared), d_annotations = at::zeros_like(annotations);
  Tensor d_gi_all = at::empty_like(ghs), d_gh_all = at::empty_like(ghs);
  Tensor d_scores_all = at::empty_like(weights), d_q_all = at::empty({states.size(0), w_a.size(0)}, states.options());
  std::vector<int64_t> starts(T, 0);
  for (int64_t t = 1; t < T; ++t) starts[t] = starts[t - 1] + sizes[t - 1];
  // the state each step read: s0 for step 0, else the first n_t rows of step t - 1's states
  std::vector<Tensor> prev = {s0.slice(0, 0, sizes[0])};
  for (int64_t t = 1; t < T; ++t) prev.push_back(states.slice(0, starts[t - 1], starts[t - 1] + sizes[t]));
  Tensor d_s;  // the gradient reaching the state after step t from the steps after it
  for (int64_t t = T - 1; t >= 0; --t) {
    const int64_t n = sizes[t], a = starts[t], b = starts[t] + sizes[t];
    Tensor dh = d_states ? d_states->slice(0, a, b).clone() : at::zeros({n, H}, states.options());
    if (d_s.defined()) dh.slice(0, 0, d_s.size(0)).add_(d_s);
    // GRU cell: s' = (s - n) z + n, n = tanh(i_n + r (W_hn s + b_hn)), r and z sigmoids
    const Tensor &s = prev[t], nw = ns.slice(0, a, b);
    auto rzg = ghs.slice(0, a, b).chunk(3, 1);
    const Tensor &r = rzg[0], &z = rzg[1], &gh_n = rzg[2];
    Tensor d_a = dh * (1 - z) * (1 - nw * nw);
    Tensor d_gi = d_gi_all.slice(0, a, b), d_gh = d_gh_all.slice(0, a, b);
    auto d_i = d_gi.chunk(3, 1);
    at::mul_out(d_i[0], d_a * gh_n, r * (1 - r));
    at::mul_out(d_i[1], dh * (s - nw), z * (1 - z));
    d_i[2].copy_(d_a);
    d_gh.slice(1, 0, 2 * H).copy_(d_gi.slice(1, 0, 2 * H));
    Tensor d_gh_n = d_gh.slice(1, 2 * H);
    at::mul_out(d_gh_n, d_a, r);
    // the context: the cell's input after the embedding, and an output
    Tensor d_context = at::mm(d_gi, w_ih_context);
    if (d_contexts) d_context += d_contexts->slice(0, a, b);
    const Tensor w = weights.slice(0, a, b), ann = annotations.slice(0, 0, n);
    Tensor d_w = at::bmm(ann, d_context.unsqueeze(2)).squeeze(2);
    if (d_weights) d_w += d_weights->slice(0, a, b);
    d_annotations.slice(0, 0, n).baddbmm_(w.unsqueeze(2), d_context.unsqueeze(1));
    // softmax (masked slots have weight 0, so gradient 0), then scores 2 v.sigmoid(x) - sum(v)
    Tensor d_scores = d_scores_all.slice(0, a, b);
    at::mul_out(d_scores, w, d_w - (d_w * w).sum(-1, true));
    const Tensor sig = sigs.slice(0, a, b);
    Tensor d_x2 = (d_scores * 4).unsqueeze(-1) * v * (sig * (1 - sig));
    d_prepared.slice(0, 0, n) += d_x2;
    Tensor d_q = d_q_all.slice(0, a, b);
    at::sum_out(d_q, d_x2, 1);
    d_s = at::addmm(dh * z, d_gh, w_hh).addmm_(d_q, w_a);
  }
  Tensor s_prev = at::cat(prev);
  if (d_s.size(0) < s0.size(0)) {  // rows with no output step at all
    d_s = at::cat({d_s, at::zeros({s0.size(0) - d_s.size(0), H}, d_s.options())});
  }
  Tensor d_v = (at::mm(d_scores_all.reshape({1, -1}), sigs.reshape({-1, sigs.size(-1)}))).squeeze(0) * 2 -
               d_scores_all.sum();
  return {at::mm(d_gi_all, w_ih.slice(1, 0, e)),
          d_s,
          d_prepared,
          d_annotations,
          at::mm(d_q_all.t(), s_prev),
          d_v,
          at::mm(d_gi_all.t(), inps),
          at::mm(d_gh_all.t(), s_prev),
          d_gi_all.sum(0),
          d_gh_all.sum(0)};
}

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.def("forward", &forward);
  m.def("backward", &backward);
}
