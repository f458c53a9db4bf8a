// The soft decoder's steps with additive attention, forward and backward: attention/decode.py's
// _Decode, operation for operation, with the same ATen calls in the same order, except that three runs
// of element-wise arithmetic (query_keys, gru_grads, score_grads) are one pass each with the same
// products and sums in the same order (the build turns off fused multiply-adds, which would round
// differently). So the numbers are the same to the last bit (tests/attention/test_decode.py). A
// decoder step is a few dozen small calls, for each of which Python and torch pay a few microseconds;
// here the loop runs in C++.
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

// x = (q + P) * 2 for q = W s (n x A) and P = U h (n x N x A), as forward's add and mul_ compute it.
Tensor query_keys(const Tensor& q, const Tensor& prepared) {
  const int64_t n = q.size(0), N = prepared.size(1), A = q.size(1);
  Tensor x = at::empty({n, N, A}, q.options());
  TORCH_CHECK(q.is_contiguous() && prepared.is_contiguous(), "query_keys: contiguous tensors only");
  AT_DISPATCH_FLOATING_TYPES(q.scalar_type(), "query_keys", [&] {
    using T = scalar_t;
    const T two = 2;
    const T *qd = q.data_ptr<T>(), *pd = prepared.data_ptr<T>();
    T* xd = x.data_ptr<T>();
    for (int64_t b = 0; b < n; ++b) {
      for (int64_t j = 0; j < N; ++j) {
        const T* __restrict__ qb = qd + b * A;
        const T* __restrict__ p = pd + (b * N + j) * A;
        T* __restrict__ o = xd + (b * N + j) * A;
        for (int64_t a = 0; a < A; ++a) o[a] = (qb[a] + p[a]) * two;
      }
    }
  });
  return x;
}

// One row of gru_grads (below); no two rows overlap, which lets the compiler vectorise the loop.
template <typename T>
void gru_grads_row(const T* __restrict__ dh, const T* __restrict__ s, const T* __restrict__ nw,
                   const T* __restrict__ g, T* __restrict__ d_gi, T* __restrict__ d_gh, T* __restrict__ dhz,
                   int64_t H) {
  const T one = 1;
  for (int64_t j = 0; j < H; ++j) {
    const T r = g[j], z = g[H + j], d = dh[j], nv = nw[j];
    const T d_a = (d * (one - z)) * (one - nv * nv);
    const T d_r = (d_a * g[2 * H + j]) * (r * (one - r));
    const T d_z = (d * (s[j] - nv)) * (z * (one - z));
    d_gi[j] = d_r;
    d_gi[H + j] = d_z;
    d_gi[2 * H + j] = d_a;
    d_gh[j] = d_r;
    d_gh[H + j] = d_z;
    d_gh[2 * H + j] = d_a * r;
    dhz[j] = d * z;
  }
}

// The GRU cell's gradients as _Decode.backward's dozen element-wise calls compute them, in one pass:
//   d_a = dh (1 - z) (1 - n^2), d_gi = [d_a gh_n r (1 - r), dh (s - n) z (1 - z), d_a],
//   d_gh = [the same two, d_a r], and dh z (the gradient reaching s directly).
// g: gh's rows (r, z, W_hn s + b_hn); d_gi and d_gh: rows of n x 3H buffers.
Tensor gru_grads(const Tensor& dh, const Tensor& s, const Tensor& nw, const Tensor& g, Tensor& d_gi, Tensor& d_gh) {
  const int64_t n = dh.size(0), H = dh.size(1);
  Tensor dhz = at::empty_like(dh);
  for (const Tensor* t : std::initializer_list<const Tensor*>{&dh, &s, &nw, &g, &d_gi, &d_gh, &dhz}) {
    TORCH_CHECK(t->stride(1) == 1, "gru_grads: rows must be contiguous");
  }
  AT_DISPATCH_FLOATING_TYPES(dh.scalar_type(), "gru_grads", [&] {
    using T = scalar_t;
    for (int64_t b = 0; b < n; ++b) {
      gru_grads_row<T>(dh.data_ptr<T>() + b * dh.stride(0), s.data_ptr<T>() + b * s.stride(0),
                       nw.data_ptr<T>() + b * nw.stride(0), g.data_ptr<T>() + b * g.stride(0),
                       d_gi.data_ptr<T>() + b * d_gi.stride(0), d_gh.data_ptr<T>() + b * d_gh.stride(0),
                       dhz.data_ptr<T>() + b * dhz.stride(0), H);
    }
  });
  return dhz;
}

// The scores' gradient back to x = W s + U h (halved: d_x2 is the gradient of W s + U h itself):
// d_x2 = 4 d_scores v sig (1 - sig), as _Decode.backward's six element-wise calls compute it, and
// d_prepared += d_x2 in the same pass. d_scores n x N, sig n x N x A, d_prepared's first n rows.
Tensor score_grads(const Tensor& d_scores, const Tensor& v, const Tensor& sig, Tensor& d_prepared) {
  const int64_t n = sig.size(0), N = sig.size(1), A = sig.size(2);
  Tensor d_x2 = at::empty_like(sig);
  for (const Tensor* t : std::initializer_list<const Tensor*>{&d_scores, &v, &sig, &d_prepared}) {
    TORCH_CHECK(t->is_contiguous(), "score_grads: contiguous tensors only");
  }
  AT_DISPATCH_FLOATING_TYPES(sig.scalar_type(), "score_grads", [&] {
    using T = scalar_t;
    const T one = 1, four = 4;
    const T *ds = d_scores.data_ptr<T>(), *vv = v.data_ptr<T>(), *sd = sig.data_ptr<T>();
    T *od = d_x2.data_ptr<T>(), *pd = d_prepared.data_ptr<T>();
    for (int64_t k = 0; k < n * N; ++k) {
      const T c = ds[k] * four;
      const T* __restrict__ vk = vv;
      const T* __restrict__ sg = sd + k * A;
      T* __restrict__ o = od + k * A;
      T* __restrict__ p = pd + k * A;
      for (int64_t a = 0; a < A; ++a) {
        const T x = (c * vk[a]) * (sg[a] * (one - sg[a]));
        o[a] = x;
        p[a] = p[a] + x;
      }
    }
  });
  return d_x2;
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
  const Tensor keys = prepared.contiguous();  // (query_keys reads it as one block)
  Tensor s = s0;
  int64_t start = 0;
  for (const int64_t n : sizes) {
    s = s.slice(0, 0, n);
    Tensor x = query_keys(at::mm(s, w_a_t), keys.slice(0, 0, n));
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
    Tensor d_gi = d_gi_all.slice(0, a, b), d_gh = d_gh_all.slice(0, a, b);
    Tensor dhz = gru_grads(dh, s, nw, ghs.slice(0, a, b), d_gi, d_gh);
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
    Tensor d_prepared_n = d_prepared.slice(0, 0, n);
    Tensor d_x2 = score_grads(d_scores, v, sig, d_prepared_n);
    Tensor d_q = d_q_all.slice(0, a, b);
    at::sum_out(d_q, d_x2, 1);
    d_s = at::addmm(dhz, d_gh, w_hh).addmm_(d_q, w_a);
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
