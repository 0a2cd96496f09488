#pragma once
// The exchange of operand planes between the ranks of an exact-mode engine: each
// rank receives, once per exchange, the other ranks' operand planes that its FFT
// margin planes copy (SlabGeometry::plane_source). Periodic and reflect map the
// margins at the volume's ends to planes of the first and last ranks; the plan is
// computed identically on every rank from the shared geometry.

#include <mpi.h>

#include <cstdint>
#include <functional>
#include <vector>

#include "backend/fftw_mpi/slab_geometry.hpp"

namespace h5decon::exact {

class HaloExchange {
 public:
  HaloExchange(const SlabGeometry& geometry, MPI_Comm comm);

  /// Collective among the ranks that trade planes (every rank calls it). `local(s)`
  /// points to owned operand plane s, rows of `row_stride` floats (packed when
  /// that is not domain.x).
  void exchange(const std::function<const float*(std::int64_t)>& local, std::int64_t row_stride);
  /// A received plane (domain.y x domain.x), valid until the next exchange().
  const float* plane(std::int64_t s) const;
  /// Bytes of the receive and (when packing) send buffers.
  std::int64_t bytes() const {
    return std::int64_t(sizeof(float)) * plane_floats_ * std::int64_t(recvs_.size() + sends_.size());
  }

 private:
  struct Transfer {
    int peer;
    std::int64_t plane;
  };
  void plan(const SlabGeometry& g);
  MPI_Comm comm_;
  std::int64_t plane_floats_;
  Shape3 domain_;
  std::vector<Transfer> sends_, recvs_;  // sorted by (peer, plane): the matching order
  std::vector<std::int64_t> slot_;       // operand plane -> slot in recv_, or -1
  std::vector<float> recv_, send_;
};

}  // namespace h5decon::exact
