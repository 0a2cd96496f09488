#pragma once
// The state of ExactEngine, shared by its set-up (exact_engine.cpp) and its
// element-wise passes (exact_passes.cpp).
//
// One iteration on every rank, with the CPU engine's arithmetic (cpu_engine.hpp):
//   0. Biggs only, from the second iteration: prediction y = max(x + a (x - x_prev), 0)
//   1. operand: the estimate's (or prediction's) owned planes into the FFT array;
//      complete_operand(): halo exchange, x/y/z margins by the boundary mode, zeros
//   2. H u: distributed r2c, OTF multiply in the transposed spectrum, c2r
//   3. ratio r = M d / max(H u + b, eps) in place; complete_operand()
//   4. H^T r: the same with conj(OTF)
//   RL-TV: before 2, the factor of u on the owned planes (u's edge planes exchanged
//      with the neighbouring slabs); applied in 5
//   5. update u *= H^T r [/ (H^T M)] [* TV factor], per-plane sums; the sums are combined by an
//      all-reduce in which every plane has one contributor (x + 0 = x: exact), and
//      totalled serially in plane order as the CPU engine does.

#include <mpi.h>

#include <initializer_list>
#include <optional>
#include <vector>

#include "backend/cpu/rl_extensions.hpp"
#include "backend/fftw_mpi/halo_exchange.hpp"
#include "backend/fftw_mpi/mpi_fft.hpp"
#include "backend/fftw_mpi/slab_geometry.hpp"
#include "h5decon/exact_engine.hpp"
#include "rl/step.hpp"

namespace h5decon::exact {

/// Per-plane sums of one iteration, indexed by global operand plane.
struct Sums {
  std::vector<double> change, norm, dot, gg, divergence;
  void reset(std::int64_t planes);
  /// Makes every rank's entries of `parts` everyone's (exact: one contributor per entry).
  static void combine(std::initializer_list<std::vector<double>*> parts, MPI_Comm comm);
};

struct ExactEngine::Impl {
  Impl(const Psf& psf, Shape3 volume, const RlOptions& options, MPI_Comm comm,
       const BackendOptions& backend, Shape3 fft);

  bool bertero() const { return options.boundary == Boundary::bertero; }
  float* work_plane(std::int64_t p) const { return fft.real_plane(p - geom.local_fft().begin); }
  std::int64_t domain_plane() const { return domain.y * domain.x; }

  // Set-up (exact_engine.cpp).
  void compute_otf(const Volume& kernel, ComplexBuffer& dest);
  void compute_weights();
  void initialise();
  double volume_sum() const;
  // The executor interface of rl::iterate() (rl/iteration.hpp).
  rl::StepTotals step(bool predicted, bool refill, const rl::DivergenceRule& rule);
  void predict(float alpha);
  void load_estimate();
  std::function<void(std::span<float>)> estimate_copier() const { return {}; }  // a slab each

  // Passes (exact_passes.cpp).
  void complete_operand();
  void convolve(bool adjoint);
  void ratio_pass();
  void update_pass();
  void update_row(std::int64_t z, std::int64_t y, float* correction);
  void exchange_edge_planes();
  void compute_tv_factor();

  Shape3 shape, domain, margin;  // volume, estimate domain, volume's offset in it
  RlOptions options;
  MPI_Comm comm;
  int rank = 0, ranks = 1, threads = 1;
  MpiFft fft;
  SlabGeometry geom;
  HaloExchange halo;
  ComplexBuffer otf;
  bool measure_divergence = false;  // rl::Schedule::measures_divergence()
  ComplexBuffer back_otf;  // the back projector's (wb); empty: the PSF's adjoint
  PlaneRange dom, in, out;  // owned domain planes, observed planes supplied, result planes
  std::vector<float> u, inv_weights, x_prev, g_new, g_old;  // owned domain planes
  std::vector<float> best;  // stop_divergence: the best-fitting operand so far (FitVerdict)
  bool save_best = false;   // this step saves its operand to `best` before updating
  // RL-TV (tv_lambda > 0): the factor on the owned planes, from u's owned planes and
  // the neighbouring ranks' edge planes (dom.begin - 1 and dom.end, where they exist).
  std::optional<cpu::TvFactor> tv;
  std::vector<float> tv_factor, u_below, u_above;
  std::vector<PlaneRange> doms;  // every rank's owned domain planes
  Sums sums;
  // State of one deconvolve() call.
  const float* d = nullptr;  // observed planes `in`
  float background = 0.0f, alpha = 0.0f;  // alpha: of this iteration's prediction
  bool predicted = false;
};

/// The ranks' FFT planes (local_n0, local_0_start), gathered, in rank order.
SlabGeometry make_geometry(Shape3 domain, Shape3 psf, Boundary boundary, Shape3 fft,
                           const LocalSizes& local, MPI_Comm comm);

}  // namespace h5decon::exact
