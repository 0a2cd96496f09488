// Default behaviour of the backend interface (include/h5decon/backend.hpp) for
// backends that compute in host memory and synchronously (the CPU backend).
#include "h5decon/backend.hpp"
#include "h5decon/decomposition.hpp"

namespace h5decon {
namespace {

/// A deconvolution that was already done when its ticket was made.
class DoneTicket final : public RlTicket {
 public:
  bool ready() override { return true; }
  void wait(const std::function<void()>& /*poll*/) override {}
};

}  // namespace

std::unique_ptr<RlTicket> RlEngine::deconvolve_async(std::span<const float> observed,
                                                     std::span<float> result) {
  deconvolve(observed, result);
  return std::make_unique<DoneTicket>();
}

std::int64_t Backend::engine_bytes(Shape3 psf, Shape3 shape, Shape3 /*fft_shape*/,
                                   const RlOptions& /*options*/) const {
  return block_bytes(shape, psf);
}

}  // namespace h5decon
