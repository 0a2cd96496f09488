// Plane exchange between slabs; see halo_exchange.hpp.
#include "backend/fftw_mpi/halo_exchange.hpp"

#include <algorithm>
#include <climits>
#include <cstring>
#include <set>
#include <utility>

#include "h5decon/error.hpp"

namespace h5decon::exact {
namespace {

constexpr int kTag = 0x4858;  // one tag: MPI keeps messages of one sender in order

}  // namespace

HaloExchange::HaloExchange(const SlabGeometry& g, MPI_Comm comm)
    : comm_(comm), plane_floats_(g.domain().y * g.domain().x), domain_(g.domain()) {
  H5DECON_REQUIRE(plane_floats_ <= INT_MAX, BackendError, "exact mode: a plane of ",
                  g.domain().str(), " exceeds one MPI message");
  plan(g);
}

// Every rank derives every (owner -> needing rank, plane) pair from the same
// geometry, so both sides of each transfer list it in the same order.
void HaloExchange::plan(const SlabGeometry& g) {
  std::set<std::pair<int, std::int64_t>> needs;  // (rank, plane), deduplicated, sorted
  for (int r = 0; r < g.ranks(); ++r) {
    const PlaneRange f = g.fft_planes(r);
    for (std::int64_t p = f.begin; p < f.end; ++p) {
      const std::int64_t s = g.plane_source(p);
      if (s >= 0 && g.owner(s) != r) needs.insert({r, s});
    }
  }
  slot_.assign(static_cast<std::size_t>(g.domain().z), -1);
  for (const auto& [r, s] : needs) {
    const int owner = g.owner(s);
    if (r == g.rank()) {
      slot_[s] = static_cast<std::int64_t>(recvs_.size());
      recvs_.push_back({owner, s});
    }
    if (owner == g.rank()) sends_.push_back({r, s});
  }
  std::stable_sort(sends_.begin(), sends_.end(),
                   [](const Transfer& a, const Transfer& b) { return a.peer < b.peer; });
  recv_.resize(recvs_.size() * static_cast<std::size_t>(plane_floats_));
}

void HaloExchange::exchange(const std::function<const float*(std::int64_t)>& local,
                            std::int64_t row_stride) {
  const bool packed = row_stride == domain_.x;
  if (!packed) send_.resize(sends_.size() * static_cast<std::size_t>(plane_floats_));
  std::vector<MPI_Request> requests;
  requests.reserve(sends_.size() + recvs_.size());
  for (std::size_t i = 0; i < recvs_.size(); ++i) {
    requests.emplace_back();
    MPI_Irecv(recv_.data() + i * plane_floats_, int(plane_floats_), MPI_FLOAT, recvs_[i].peer,
              kTag, comm_, &requests.back());
  }
  for (std::size_t i = 0; i < sends_.size(); ++i) {
    const float* src = local(sends_[i].plane);
    if (!packed) {
      float* dst = send_.data() + i * plane_floats_;
      for (std::int64_t y = 0; y < domain_.y; ++y)
        std::memcpy(dst + y * domain_.x, src + y * row_stride,
                    sizeof(float) * static_cast<std::size_t>(domain_.x));
      src = dst;
    }
    requests.emplace_back();
    MPI_Isend(src, int(plane_floats_), MPI_FLOAT, sends_[i].peer, kTag, comm_, &requests.back());
  }
  const int rc = MPI_Waitall(int(requests.size()), requests.data(), MPI_STATUSES_IGNORE);
  H5DECON_REQUIRE(rc == MPI_SUCCESS, BackendError, "exact mode: the halo exchange failed (MPI error ",
                  rc, ")");
}

const float* HaloExchange::plane(std::int64_t s) const {
  H5DECON_REQUIRE(s >= 0 && s < std::int64_t(slot_.size()) && slot_[s] >= 0, Error,
                  "HaloExchange: plane ", s, " was not received");
  return recv_.data() + slot_[s] * plane_floats_;
}

}  // namespace h5decon::exact
