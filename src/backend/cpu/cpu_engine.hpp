#pragma once
// Richardson-Lucy on the CPU with FFTW3: four FFTs and two fused passes per iteration.

#include <optional>
#include <vector>

#include "backend/cpu/fft_convolver.hpp"
#include "backend/cpu/rl_extensions.hpp"
#include "h5decon/backend.hpp"
#include "rl/iteration.hpp"

namespace h5decon::cpu {

/// The CPU executor of the RL iteration (rl/iteration.hpp). Per iteration:
///   0. Biggs only, from the second iteration: prediction pass
///      y = max(x + alpha (x - x_prev), 0) (biggs-log: y = x (x / x_prev)^alpha), the
///      operand of step 1 (FftConvolver::load_planes)
///   1. H u        (r2c, multiply by OTF, c2r)
///   2. ratio pass: r = M d / max(H u + b, eps) (M = 1 on the volume; the Bertero
///      mask on its extended domain), the RL-TV factor of u when tv_lambda > 0, and
///      the I-divergence of H u + b from d when measured
///   3. H^T r      (r2c, multiply by conj OTF, c2r)
///   4. update pass: u *= H^T r [ / (H^T M) ] [ * TV factor ], the sums of the
///      relative change and of Biggs' alpha, and the operand of the next step 1.
/// The passes run per z-plane inside the convolutions (FftConvolver::convolve_into),
/// between the inverse transform of one and the forward transform of the next.
/// The estimate lives on estimate_shape() (rl_domain.hpp): the volume itself, or
/// for bertero the volume extended by psf/2, stored at the origin of the FFT
/// array with no margins (a linear convolution there needs FFT >= volume + 2 psf/2,
/// as the other modes).
class CpuEngine final : public RlEngine {
 public:
  CpuEngine(const Psf& psf, Shape3 shape, const RlOptions& options, Shape3 fft,
            const BackendOptions& backend);

  void deconvolve(std::span<const float> observed, std::span<float> result,
                  const IterationObserver& observer) override;
  void set_background(float background) override {
    options_.background = background;
    options_.background_auto = false;
  }
  Shape3 shape() const override { return shape_; }
  Shape3 fft_shape() const override { return conv_.layout().fft(); }
  std::int64_t bytes() const override;
  /// bytes() of an engine for these arguments, from the same list of state, without
  /// making one: the cost memory planning gives a block.
  static std::int64_t planned_bytes(Shape3 psf, Shape3 shape, const RlOptions& options, Shape3 fft,
                                    int threads);

 private:
  bool bertero() const { return options_.boundary == Boundary::bertero; }
  // The executor interface of rl::iterate().
  void predict(float alpha);
  void load_estimate() {}  // the operand holds x_k: loaded by deconvolve(), refilled by step()
  rl::StepTotals step(bool predicted, bool refill, const rl::DivergenceRule& rule);
  std::function<void(std::span<float>)> estimate_copier() {
    return [this](std::span<float> out) { copy_estimate(out); };
  }
  template <class Executor>
  friend void rl::iterate(Executor&, const RlOptions&, const IterationObserver&);

  void initialise(std::span<const float> observed);
  void predict_plane(std::int64_t z, float* plane);
  void ratio_pass(std::int64_t z, const float* blurred, float* next);
  void update_pass(std::int64_t z, const float* correction, float* next);
  void update_row(std::int64_t z, std::int64_t y, const float* correction, float* next_row);
  void copy_estimate(std::span<float> out) const;

  // The engine's state beyond the convolver; planned_bytes() counts the same list.
  Shape3 shape_, domain_, margin_;  // volume, estimate domain, volume's offset in it
  RlOptions options_;
  FftConvolver conv_;
  std::vector<float> inv_weights_;  // bertero: 1 / max(H^T M, floor) on the domain
  std::optional<TvFactor> tv_;      // tv_lambda > 0
  std::vector<float> tv_factor_;    // tv_lambda > 0: the factor of this iteration
  std::vector<float> estimate_;     // bertero: u on the domain (else the caller's result)
  std::vector<float> x_prev_, g_new_, g_old_;  // Biggs: x_{k-1}, g_k, g_{k-1}
  std::vector<float> rows_;                    // per thread: one row of update factors
  std::vector<float> best_;  // stop_divergence: the best-fitting operand so far (FitVerdict)
  PlaneSums sums_;
  // State of one deconvolve() call.
  const float* d_ = nullptr;
  float* u_ = nullptr;
  float background_ = 0.0f;
  float alpha_ = 0.0f;      // of this iteration's prediction
  bool predicted_ = false;  // x_prev_ holds x_{k-1} (a prediction pass ran this iteration)
  bool measure_divergence_ = false;  // rl::Schedule::measures_divergence()
  bool save_best_ = false;           // this step saves its operand to best_ before updating
};

}  // namespace h5decon::cpu
