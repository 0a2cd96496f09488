// Default behaviour of the backend interface (include/h5decon/backend.hpp) for
// backends that compute in host memory and synchronously (the CPU backend).
#include <vector>

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

/// Another ticket, with the check of the host-side conversion before it.
class CheckedTicket final : public RlTicket {
 public:
  CheckedTicket(std::unique_ptr<RlTicket> inner, const SampleCheck& check)
      : inner_(std::move(inner)), check_(check) {}
  bool ready() override { return !inner_ || inner_->ready(); }
  void wait(const std::function<void()>& poll) override {
    if (inner_) inner_->wait(poll);
  }
  SampleCheck input_check() const override { return check_; }

 private:
  std::unique_ptr<RlTicket> inner_;  // null: nothing was computed (non-finite input)
  SampleCheck check_;
};

}  // namespace

std::unique_ptr<RlTicket> RlEngine::deconvolve_async(std::span<const float> observed,
                                                     std::span<float> result) {
  deconvolve(observed, result);
  return std::make_unique<DoneTicket>();
}

std::unique_ptr<RlTicket> RlEngine::deconvolve_samples_async(SampleView observed,
                                                             std::span<float> result) {
  std::vector<float> values(static_cast<std::size_t>(observed.size()));
  const SampleCheck check = convert_samples(observed, values);
  if (check.first_nonfinite >= 0) return std::make_unique<CheckedTicket>(nullptr, check);
  return std::make_unique<CheckedTicket>(deconvolve_async(values, result), check);
}

std::int64_t Backend::engine_bytes(Shape3 psf, Shape3 shape, Shape3 /*fft_shape*/,
                                   const RlOptions& /*options*/) const {
  return block_bytes(shape, psf);
}

}  // namespace h5decon
