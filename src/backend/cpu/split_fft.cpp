// The split, pruned 3D FFT; see split_fft.hpp.
#include "backend/cpu/split_fft.hpp"

#include <omp.h>

#include <algorithm>
#include <cstring>
#include <utility>

#include "backend/cpu/otf_multiply.hpp"
#include "h5decon/error.hpp"

namespace h5decon::cpu {
namespace {

// Pencils transformed together along z. 16 (a 40 kB slab for P_z = 160, in L1/L2)
// measured faster than 8, 32, 64 and whole rows of kx on a 2-core EPYC.
std::int64_t pencil_width(std::int64_t h) { return std::min<std::int64_t>((h + 7) / 8 * 8, 16); }

// 8 complex floats: 64 bytes, the widest SIMD alignment FFTW may exploit.
std::int64_t padded_spectrum_row(std::int64_t n) { return (n + 7) / 8 * 8; }

fftwf_complex* fc(cfloat* p) { return reinterpret_cast<fftwf_complex*>(p); }

// 1D c2c transforms of length n on `howmany` interleaved columns (stride `stride`), in place.
fftwf_plan columns_plan(std::int64_t n, std::int64_t howmany, std::int64_t stride, cfloat* data,
                        int sign, unsigned flags) {
  const int len = int(n);
  return fftwf_plan_many_dft(1, &len, int(howmany), fc(data), nullptr, int(stride), 1, fc(data),
                             nullptr, int(stride), 1, sign, flags);
}

}  // namespace

SplitFft::SplitFft(Shape3 fft, std::int64_t real_row, float* real_in, float* real_out, int threads,
                   const BackendOptions& options, Ranges live_rows, IndexRange out_rows)
    : fft_(fft),
      xs_(real_row),
      h_(fft.x / 2 + 1),
      hs_(padded_spectrum_row(h_)),
      threads_(threads),
      bw_(pencil_width(h_)),
      batches_((h_ + bw_ - 1) / bw_),
      live_rows_(std::move(live_rows)),
      out_rows_(out_rows),
      spectrum_(static_cast<std::size_t>(fft.z * fft.y * hs_)),
      pencils_(static_cast<std::size_t>(threads * fft.z * bw_)) {
  H5DECON_REQUIRE(out_rows_.size() > 0, BackendError, "SplitFft: no output rows");
  make_plans(real_in, real_out, options);
  // Row padding is never transformed but is multiplied: keep it finite.
  std::fill_n(spectrum_.data(), spectrum_.size(), cfloat{});
  std::fill_n(pencils_.data(), pencils_.size(), cfloat{});
}

void SplitFft::make_plans(float* real_in, float* real_out, const BackendOptions& options) {
  const PlannerSession session(options, 1);  // one thread per plan: OpenMP runs many at once
  const unsigned flags = session.flags();
  const int nx = int(fft_.x);
  std::vector<std::int64_t> counts{fft_.y};  // every row: the OTF
  for (const IndexRange& r : live_rows_) counts.push_back(r.size());
  for (std::int64_t rows : counts) {
    if (r2c_plan(rows)) continue;
    r2c_.push_back({rows, FftwPlan(fftwf_plan_many_dft_r2c(1, &nx, int(rows), real_in, nullptr, 1,
                                                           int(xs_), fc(plane(0)), nullptr, 1,
                                                           int(hs_), flags | FFTW_PRESERVE_INPUT),
                                   "row r2c")});
  }
  c2r_ = FftwPlan(
      fftwf_plan_many_dft_c2r(1, &nx, int(out_rows_.size()), fc(plane(0)), nullptr, 1, int(hs_),
                              real_out, nullptr, 1, int(xs_), flags | FFTW_DESTROY_INPUT),
      "row c2r");
  y_forward_ = FftwPlan(columns_plan(fft_.y, h_, hs_, plane(0), FFTW_FORWARD, flags), "y c2c");
  y_inverse_ = FftwPlan(columns_plan(fft_.y, h_, hs_, plane(0), FFTW_BACKWARD, flags), "y c2c");
  for (int last = 0; last < 2; ++last) {
    const std::int64_t w = batch(last ? batches_ - 1 : 0).size();
    z_forward_[last] =
        FftwPlan(columns_plan(fft_.z, w, bw_, pencils_.data(), FFTW_FORWARD, flags), "z c2c");
    z_inverse_[last] =
        FftwPlan(columns_plan(fft_.z, w, bw_, pencils_.data(), FFTW_BACKWARD, flags), "z c2c");
  }
  session.finish();
}

fftwf_plan SplitFft::r2c_plan(std::int64_t rows) const {
  for (const RowPlans& p : r2c_)
    if (p.rows == rows) return p.plan.get();
  return nullptr;
}

std::int64_t SplitFft::bytes() const {
  return static_cast<std::int64_t>(sizeof(cfloat) * (spectrum_.size() + pencils_.size()));
}

std::int64_t SplitFft::planned_bytes(Shape3 fft, int threads) {
  const std::int64_t h = fft.x / 2 + 1;
  return std::int64_t(sizeof(cfloat)) *
         (fft.z * fft.y * padded_spectrum_row(h) + threads * fft.z * pencil_width(h));
}

std::int64_t SplitFft::otf_size(Shape3 fft) {
  const std::int64_t h = fft.x / 2 + 1, bw = pencil_width(h);
  return fft.y * ((h + bw - 1) / bw) * fft.z * bw;
}

cfloat* SplitFft::pencil_buffer() const {
  return pencils_.data() + omp_get_thread_num() * fft_.z * bw_;
}

IndexRange SplitFft::batch(std::int64_t b) const { return {b * bw_, std::min(h_, (b + 1) * bw_)}; }

void SplitFft::forward_plane(const float* real, std::int64_t z, bool all_rows) const {
  cfloat* out = plane(z);
  const Ranges rows = all_rows ? Ranges{{0, fft_.y}} : live_rows_;
  std::int64_t next = 0;  // zero the rows between live ranges: the y pass reads them
  for (const IndexRange& r : rows) {
    std::fill(out + next * hs_, out + r.begin * hs_, cfloat{});
    next = r.end;
    // r2c preserves its input: the const_cast is safe. Every count was planned.
    fftwf_execute_dft_r2c(r2c_plan(r.size()), const_cast<float*>(real + r.begin * xs_),
                          fc(out + r.begin * hs_));
  }
  std::fill(out + next * hs_, out + fft_.y * hs_, cfloat{});
  fftwf_execute_dft(y_forward_.get(), fc(out), fc(out));
}

void SplitFft::inverse_plane(std::int64_t z, float* real) const {
  cfloat* in = plane(z);
  fftwf_execute_dft(y_inverse_.get(), fc(in), fc(in));
  fftwf_execute_dft_c2r(c2r_.get(), fc(in + out_rows_.begin * hs_), real + out_rows_.begin * xs_);
}

void SplitFft::gather(std::int64_t y, IndexRange k, cfloat* buf,
                      const std::vector<std::int64_t>& sources) const {
  for (std::int64_t z = 0; z < fft_.z; ++z) {
    cfloat* dst = buf + z * bw_;
    if (sources[z] >= 0)
      std::memcpy(dst, plane(sources[z]) + y * hs_ + k.begin,
                  sizeof(cfloat) * std::size_t(k.size()));
    else
      std::fill_n(dst, k.size(), cfloat{});
  }
}

void SplitFft::scatter(std::int64_t y, IndexRange k, const cfloat* buf, IndexRange keep) const {
  for (std::int64_t z = keep.begin; z < keep.end; ++z)
    std::memcpy(plane(z) + y * hs_ + k.begin, buf + z * bw_,
                sizeof(cfloat) * std::size_t(k.size()));
}

void SplitFft::export_pencils(cfloat* otf, float scale) {
  std::vector<std::int64_t> every(static_cast<std::size_t>(fft_.z));
  for (std::int64_t z = 0; z < fft_.z; ++z) every[z] = z;
  const std::int64_t units = fft_.y * batches_, block = fft_.z * bw_;
#pragma omp parallel for schedule(static) num_threads(threads_)
  for (std::int64_t u = 0; u < units; ++u) {
    const std::int64_t b = u % batches_;
    cfloat* buf = pencil_buffer();
    gather(u / batches_, batch(b), buf, every);
    fftwf_execute_dft(z_forward_[b == batches_ - 1].get(), fc(buf), fc(buf));
    for (std::int64_t i = 0; i < block; ++i) otf[u * block + i] = buf[i] * scale;
  }
}

void SplitFft::filter_pencils(const cfloat* otf, bool adjoint,
                              const std::vector<std::int64_t>& sources, IndexRange keep) {
  const std::int64_t units = fft_.y * batches_, block = fft_.z * bw_;
#pragma omp parallel for schedule(static) num_threads(threads_)
  for (std::int64_t u = 0; u < units; ++u) {
    const std::int64_t y = u / batches_, b = u % batches_;
    const bool last = b == batches_ - 1;
    cfloat* buf = pencil_buffer();
    gather(y, batch(b), buf, sources);
    fftwf_execute_dft(z_forward_[last].get(), fc(buf), fc(buf));
    multiply_by_otf(buf, otf + u * block, block, adjoint);
    fftwf_execute_dft(z_inverse_[last].get(), fc(buf), fc(buf));
    scatter(y, batch(b), buf, keep);
  }
}

}  // namespace h5decon::cpu
