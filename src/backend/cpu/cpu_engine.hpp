#pragma once
// Richardson-Lucy on the CPU with FFTW3: four FFTs and two fused passes per iteration.

#include "backend/cpu/fft_convolver.hpp"
#include "h5decon/backend.hpp"

namespace h5decon::cpu {

/// The CPU RL engine. Per iteration:
///   1. H u        (r2c, multiply by OTF, c2r)
///   2. ratio pass: r = d / max(H u, eps), the operand of
///   3. H^T r      (r2c, multiply by conj OTF, c2r)
///   4. update pass: u *= H^T r, the operand of the next iteration's step 1.
/// The passes run per z-plane inside the convolutions (FftConvolver::convolve_into),
/// between the inverse transform of one and the forward transform of the next.
class CpuEngine final : public RlEngine {
 public:
  CpuEngine(const Psf& psf, Shape3 shape, const RlOptions& options, Shape3 fft,
            const BackendOptions& backend);

  void deconvolve(std::span<const float> observed, std::span<float> result,
                  const IterationObserver& observer) override;
  Shape3 shape() const override { return shape_; }
  Shape3 fft_shape() const override { return conv_.layout().fft(); }
  std::int64_t bytes() const override { return conv_.bytes(); }

 private:
  void initialise(std::span<const float> observed, std::span<float> u) const;
  void ratio_pass(std::int64_t z, const float* observed, const float* blurred, float* next) const;
  void update_pass(std::int64_t z, float* u, const float* correction, float* next) const;

  Shape3 shape_;
  RlOptions options_;
  FftConvolver conv_;
};

}  // namespace h5decon::cpu
