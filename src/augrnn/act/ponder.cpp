// The inner steps of ACT for an LSTM cell, forward and backward: act/ponder.py's _Ponder, operation for
// operation, with the same ATen calls in the same order, except that two runs of element-wise arithmetic
// (cell_state, gate_grads) are one pass each with the same products and sums in the same order. So the
// numbers are the same to the last bit (tests/act/test_ponder.py). Python and torch pay a few
// microseconds for each of the two dozen small calls of an inner step; here the loop runs in C++ and
// the element-wise runs make one call. core/native.py builds it (CPU tensors, float32 or float64).

#include <ATen/ATen.h>
#include <torch/csrc/utils/pybind.h>

#include <vector>

using at::Tensor;

// c_in = the rows of c that run (row going[r], or row r when every sample runs) and c_new = f * c_in + i * g,
// as _Ponder.forward's index and three element-wise calls compute them, in one pass.
void cell_state(const Tensor& c, const Tensor& going, const Tensor& i, const Tensor& f, const Tensor& g,
                Tensor& c_in, Tensor& c_new) {
  const int64_t rows = i.size(0), H = i.size(1);
  const int64_t* idx = going.defined() ? going.data_ptr<int64_t>() : nullptr;
  AT_DISPATCH_FLOATING_TYPES(c.scalar_type(), "cell_state", [&] {
    using T = scalar_t;
    auto c_ = c.accessor<T, 2>(), i_ = i.accessor<T, 2>(), f_ = f.accessor<T, 2>(), g_ = g.accessor<T, 2>();
    auto ci = c_in.accessor<T, 2>(), cn = c_new.accessor<T, 2>();
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t s = idx ? idx[r] : r;
      for (int64_t j = 0; j < H; ++j) {
        const T cv = c_[s][j];
        ci[r][j] = cv;
        cn[r][j] = f_[r][j] * cv + i_[r][j] * g_[r][j];
      }
    }
  });
}

// Returns {h_all, c_all, eta_all} (B x K x H, B x K x H, B x K) and, per inner step, the 8 tensors the
// backward pass reads: going (the indices of the samples that ran; empty when every sample did), h_in,
// c_in, i, f, g, o, tanh(c).
std::vector<Tensor> forward(const Tensor& first, const Tensor& later, const Tensor& h0, const Tensor& c0,
                            const Tensor& weight_hh, const Tensor& halt_weight, const Tensor& halt_bias,
                            int64_t max_steps, double eps) {
  const int64_t batch = first.size(0);
  Tensor h = h0, c = c0, going;
  std::vector<Tensor> hs, cs, halts, saved;
  Tensor total = at::zeros({batch}, first.options());
  const Tensor w_t = weight_hh.t();
  const Tensor all = at::empty({0}, first.options().dtype(at::kLong));
  for (int64_t n = 0; n < max_steps; ++n) {
    Tensor pre = n == 0 ? first : later, h_in = h;
    if (going.defined()) {  // index_select: the same rows as Python's h[going], in a cheaper call
      h_in = h.index_select(0, going);
      pre = pre.index_select(0, going);
    }
    auto gates = at::addmm(pre, h_in, w_t).chunk(4, 1);  // nn.LSTMCell's gates i, f, g, o
    Tensor i = at::sigmoid(gates[0]), f = at::sigmoid(gates[1]), g = at::tanh(gates[2]),
           o = at::sigmoid(gates[3]);
    Tensor c_in = at::empty_like(h_in), c_new = at::empty_like(h_in);
    cell_state(c, going, i, f, g, c_in, c_new);
    Tensor tc = at::tanh(c_new);
    Tensor h_new = o * tc;
    for (const Tensor& t : {going.defined() ? going : all, h_in, c_in, i, f, g, o, tc}) saved.push_back(t);
    if (going.defined()) {  // a halted sample keeps its state: its later weights are 0 (eqs. 6 and 9)
      h = h.index_copy(0, going, h_new);
      c = c.index_copy(0, going, c_new);
    } else {
      h = h_new;
      c = c_new;
    }
    Tensor eta = at::sigmoid(at::linear(h, halt_weight, halt_bias)).squeeze(-1);
    hs.push_back(h);
    cs.push_back(c);
    halts.push_back(eta);
    total = total + eta;
    if (n + 1 == max_steps) break;
    Tensor left = (total < 1 - eps).nonzero().squeeze(-1);
    if (left.size(0) == 0) break;
    going = left.size(0) < batch ? left : Tensor();
  }
  std::vector<Tensor> out = {at::stack(hs, 1), at::stack(cs, 1), at::stack(halts, -1)};
  out.insert(out.end(), saved.begin(), saved.end());
  return out;
}

// One sample's row of gate_grads (below); no two of these rows overlap (dc and d_z are buffers of their
// own), which lets the compiler vectorise the loop.
template <typename T>
void gate_grads_row(const T* __restrict__ dh, const T* __restrict__ c_in, const T* __restrict__ i,
                    const T* __restrict__ f, const T* __restrict__ g, const T* __restrict__ o,
                    const T* __restrict__ tc, T* __restrict__ dc, T* __restrict__ z, int64_t H) {
  const T one = 1;
  for (int64_t j = 0; j < H; ++j) {
    const T dci = dc[j] + dh[j] * o[j] * (one - tc[j] * tc[j]);
    z[j] = (dci * g[j]) * (i[j] * (one - i[j]));
    z[H + j] = (dci * c_in[j]) * (f[j] * (one - f[j]));
    z[2 * H + j] = (dci * i[j]) * (one - g[j] * g[j]);
    z[3 * H + j] = (dh[j] * tc[j]) * (o[j] * (one - o[j]));
    dc[j] = dci * f[j];
  }
}

// The gates' gradients for the samples that ran step n (row going[r] of dh and dc, or row r when every
// sample ran), as _Ponder.backward computes them with a dozen element-wise calls, here in one pass with
// the same arithmetic in the same order (each product and sum rounded as there; the build turns off
// fused multiply-adds, which would round differently):
//   dc_in = dc + dh * o * (1 - tanh(c)^2)
//   d_z = [dc_in * g * i (1 - i), dc_in * c_in * f (1 - f), dc_in * i * (1 - g^2), dh * tanh(c) * o (1 - o)]
// and dc's row becomes dc_in * f, the gradient reaching the state before the step.
void gate_grads(const Tensor& dh, Tensor& dc, const Tensor& going, const Tensor& c_in, const Tensor& i,
                const Tensor& f, const Tensor& g, const Tensor& o, const Tensor& tc, Tensor& d_z) {
  const int64_t rows = i.size(0), H = i.size(1);
  const int64_t* idx = going.defined() ? going.data_ptr<int64_t>() : nullptr;
  for (const Tensor* t : std::initializer_list<const Tensor*>{&dh, &dc, &c_in, &i, &f, &g, &o, &tc, &d_z}) {
    TORCH_CHECK(t->stride(1) == 1, "gate_grads: rows must be contiguous");
  }
  AT_DISPATCH_FLOATING_TYPES(dh.scalar_type(), "gate_grads", [&] {
    using T = scalar_t;
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t s = idx ? idx[r] : r;
      gate_grads_row<T>(dh.data_ptr<T>() + s * dh.stride(0), c_in.data_ptr<T>() + r * c_in.stride(0),
                        i.data_ptr<T>() + r * i.stride(0), f.data_ptr<T>() + r * f.stride(0),
                        g.data_ptr<T>() + r * g.stride(0), o.data_ptr<T>() + r * o.stride(0),
                        tc.data_ptr<T>() + r * tc.stride(0), dc.data_ptr<T>() + s * dc.stride(0),
                        d_z.data_ptr<T>() + r * d_z.stride(0), H);
    }
  });
}

// The gradients of first, later, h0, c0, weight_hh, halt_weight and halt_bias.
std::vector<Tensor> backward(const std::vector<Tensor>& saved, const Tensor& weight_hh, const Tensor& halt_weight,
                             const Tensor& h_all, const Tensor& eta_all, const Tensor& d_h_all_in,
                             const Tensor& d_c_all, const Tensor& d_eta) {
  // The halting unit eta^n = sigmoid(w . h^n + b) reads every sample's state after each inner step.
  Tensor d_pre_halt = d_eta * eta_all * (1 - eta_all);  // B x K
  Tensor d_h_all = d_h_all_in + d_pre_halt.unsqueeze(-1) * halt_weight;
  Tensor d_h, d_c;  // the gradient reaching the state after step n from the steps after it
  Tensor d_later = d_h_all.new_zeros({d_h_all.size(0), weight_hh.size(0)});
  std::vector<Tensor> h_ins;
  const int64_t steps = eta_all.size(1);
  // Every step's gates' gradient d_z goes into one buffer, in the order of Python's torch.cat(d_zs)
  // (the last step's first), which is then that concatenation without the copy.
  int64_t total = 0, offset = 0;
  for (int64_t n = 0; n < steps; ++n) total += saved[8 * n + 3].size(0);
  Tensor d_zs = at::empty({total, 4 * weight_hh.size(1)}, d_h_all.options());
  for (int64_t n = steps - 1; n >= 0; --n) {
    const Tensor* s = &saved[8 * n];
    const Tensor going = s[0].numel() ? s[0] : Tensor();
    const Tensor &h_in = s[1], &c_in = s[2], &i = s[3], &f = s[4], &g = s[5], &o = s[6],
                 &tc = s[7];
    Tensor dh = d_h.defined() ? d_h_all.select(1, n) + d_h : d_h_all.select(1, n);
    // dc is written in place below: a copy where it would be the incoming gradient itself
    Tensor dc = d_c.defined() ? d_c_all.select(1, n) + d_c : d_c_all.select(1, n).clone();
    const int64_t rows = i.size(0);
    Tensor d_z = d_zs.narrow(0, offset, rows);
    offset += rows;
    gate_grads(dh, dc, going, c_in, i, f, g, o, tc, d_z);
    Tensor dh_prev = at::matmul(d_z, weight_hh);
    h_ins.push_back(h_in);
    // The later steps share one input, `later`; only the samples that ran get its gradient.
    if (n > 0 && !going.defined()) {
      d_later += d_z;
    } else if (n > 0) {
      d_later.index_add_(0, going, d_z);
    }
    // A sample that did not run step n passed its state through unchanged.
    d_h = going.defined() ? dh.index_copy(0, going, dh_prev) : dh_prev;
    d_c = dc;
  }
  const int64_t batch = saved[3].size(0);  // step 0 runs every sample
  Tensor d_first = d_zs.narrow(0, total - batch, batch);
  Tensor d_weight_hh = at::matmul(d_zs.t(), at::cat(h_ins));
  Tensor d_halt_weight = at::matmul(d_pre_halt.reshape({1, -1}), h_all.reshape({-1, h_all.size(-1)}));
  Tensor d_halt_bias = d_pre_halt.sum().reshape({1});
  return {d_first, d_later, d_h, d_c, d_weight_hh, d_halt_weight, d_halt_bias};
}

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.def("forward", &forward);
  m.def("backward", &backward);
}
