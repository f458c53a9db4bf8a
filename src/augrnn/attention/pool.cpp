// Max-pooling over 2 x 2 windows (stride 2) followed by a ReLU, forward and backward, each in one pass:
// attention/pool.py's max_pool_relu. The same numbers as F.relu(F.max_pool2d(x, 2)) and its autograd
// backward, to the last bit (tests/attention/test_pool.py): a maximum is exact; each window keeps its
// first largest value, or its last NaN, as ATen's CPU max-pooling does; the ReLU is ATen's clamp_min,
// 0 > m ? 0 : m; its backward passes the gradient where the output is not <= 0, as threshold_backward
// does; and max-pooling's backward adds each gradient to a zero (0 + g, which turns -0 into +0).
// Torch spends most of this step's pooling time in max_pool2d's backward at the strip reader's shapes.
// core/native.py builds it (CPU tensors, float32 or float64, any strides).

#include <ATen/ATen.h>
#include <torch/csrc/utils/pybind.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

using at::Tensor;

// Strides of a B x C x H x W tensor; `Unit` fixes the channel stride at 1 (channels last), so that the
// compiler vectorises the loops over channels.
struct Strides {
  int64_t b, c, h, w;
  explicit Strides(const Tensor& t) : b(t.stride(0)), c(t.stride(1)), h(t.stride(2)), w(t.stride(3)) {}
};

template <typename T, bool Unit>
void pool_forward(const T* __restrict__ x, T* __restrict__ y, uint8_t* __restrict__ where, Strides sx, Strides sy,
                  int64_t B, int64_t C, int64_t Ho, int64_t Wo) {
  const int64_t xc = Unit ? 1 : sx.c, yc = Unit ? 1 : sy.c;
  for (int64_t b = 0; b < B; ++b)
    for (int64_t i = 0; i < Ho; ++i)
      for (int64_t j = 0; j < Wo; ++j) {
        const T* p = x + b * sx.b + 2 * i * sx.h + 2 * j * sx.w;
        T* q = y + b * sy.b + i * sy.h + j * sy.w;
        uint8_t* k = where + b * sy.b + i * sy.h + j * sy.w;  // `where` has y's strides
        for (int64_t c = 0; c < C; ++c) {
          const T* v = p + c * xc;
          // ATen's order: the window's elements row by row, a larger value or a NaN taking over
          T m = -std::numeric_limits<T>::infinity();
          uint8_t e = 0;
          const T v0 = v[0], v1 = v[sx.w], v2 = v[sx.h], v3 = v[sx.h + sx.w];
          bool t = v0 > m || v0 != v0;
          m = t ? v0 : m;
          t = v1 > m || v1 != v1;
          m = t ? v1 : m, e = t ? 1 : e;
          t = v2 > m || v2 != v2;
          m = t ? v2 : m, e = t ? 2 : e;
          t = v3 > m || v3 != v3;
          m = t ? v3 : m, e = t ? 3 : e;
          q[c * yc] = T(0) > m ? T(0) : m;  // ATen's clamp_min(m, 0)
          k[c * yc] = e;
        }
      }
}

constexpr int64_t kBlock = 64;

template <typename T, bool Unit>
void pool_backward(const T* __restrict__ dy, const T* __restrict__ y, const uint8_t* __restrict__ where,
                   T* __restrict__ dx, Strides sg, Strides sy, Strides sx, int64_t B, int64_t C, int64_t Ho,
                   int64_t Wo) {
  const int64_t gc = Unit ? 1 : sg.c, yc = Unit ? 1 : sy.c, xc = Unit ? 1 : sx.c;
  for (int64_t b = 0; b < B; ++b)
    for (int64_t i = 0; i < Ho; ++i)
      for (int64_t j = 0; j < Wo; ++j) {
        const T* __restrict__ g = dy + b * sg.b + i * sg.h + j * sg.w;
        const T* __restrict__ o = y + b * sy.b + i * sy.h + j * sy.w;
        const uint8_t* __restrict__ k = where + b * sy.b + i * sy.h + j * sy.w;
        T* __restrict__ d = dx + b * sx.b + 2 * i * sx.h + 2 * j * sx.w;
        // The ReLU's backward (threshold_backward on its output), then the gradient added to a zero at
        // the window's winner, as max-pooling's backward does; every other element gets 0. A block of
        // channels at a time, one window position per loop: vectorised, about 3x faster than one loop.
        for (int64_t c0 = 0; c0 < C; c0 += kBlock) {
          const int64_t n = std::min(kBlock, C - c0);
          T r[kBlock];
          int32_t e[kBlock];
          for (int64_t c = 0; c < n; ++c) {
            r[c] = T(0) + (o[(c0 + c) * yc] <= T(0) ? T(0) : g[(c0 + c) * gc]);
            e[c] = k[(c0 + c) * yc];
          }
          const int64_t at[4] = {0, sx.w, sx.h, sx.h + sx.w};
          for (int32_t w = 0; w < 4; ++w) {
            T* __restrict__ p = d + c0 * xc + at[w];
            for (int64_t c = 0; c < n; ++c) p[c * xc] = e[c] == w ? r[c] : T(0);
          }
        }
      }
}

// x B x C x H x W -> (y B x C x H/2 x W/2, where: which element of each window won, 0-3, row by row)
std::vector<Tensor> forward(const Tensor& x) {
  TORCH_CHECK(x.dim() == 4, "max_pool_relu: x must be B x C x H x W, got ", x.dim(), " dimensions");
  const int64_t B = x.size(0), C = x.size(1), Ho = x.size(2) / 2, Wo = x.size(3) / 2;
  const auto format = x.suggest_memory_format();  // as ATen's max_pool2d: channels last stays so
  Tensor y = at::empty({B, C, Ho, Wo}, x.options().memory_format(format));
  Tensor where = at::empty({B, C, Ho, Wo}, x.options().dtype(at::kByte).memory_format(format));
  const Strides sx(x), sy(y);
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "max_pool_relu_forward", [&] {
    if (sx.c == 1 && sy.c == 1)
      pool_forward<scalar_t, true>(x.data_ptr<scalar_t>(), y.data_ptr<scalar_t>(), where.data_ptr<uint8_t>(), sx,
                                   sy, B, C, Ho, Wo);
    else
      pool_forward<scalar_t, false>(x.data_ptr<scalar_t>(), y.data_ptr<scalar_t>(), where.data_ptr<uint8_t>(), sx,
                                    sy, B, C, Ho, Wo);
  });
  return {y, where};
}

// The gradient reaching x (B x C x H x W, in y's layout, which is x's) from dy, given forward's y and where.
Tensor backward(const Tensor& dy, const Tensor& y, const Tensor& where, int64_t H, int64_t W) {
  const int64_t B = y.size(0), C = y.size(1), Ho = y.size(2), Wo = y.size(3);
  // every element is written below, except a last row or column that no window covers (odd H or W)
  const auto options = dy.options().memory_format(y.suggest_memory_format());
  Tensor dx = (H % 2 || W % 2) ? at::zeros({B, C, H, W}, options) : at::empty({B, C, H, W}, options);
  const Strides sg(dy), sy(y), sx(dx);
  TORCH_CHECK(where.strides() == y.strides(), "max_pool_relu: `where` must have y's strides");
  AT_DISPATCH_FLOATING_TYPES(dy.scalar_type(), "max_pool_relu_backward", [&] {
    using T = scalar_t;
    if (sg.c == 1 && sy.c == 1 && sx.c == 1)
      pool_backward<T, true>(dy.data_ptr<T>(), y.data_ptr<T>(), where.data_ptr<uint8_t>(), dx.data_ptr<T>(), sg, sy,
                             sx, B, C, Ho, Wo);
    else
      pool_backward<T, false>(dy.data_ptr<T>(), y.data_ptr<T>(), where.data_ptr<uint8_t>(), dx.data_ptr<T>(), sg,
                              sy, sx, B, C, Ho, Wo);
  });
  return dx;
}

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.def("forward", &forward);
  m.def("backward", &backward);
}
