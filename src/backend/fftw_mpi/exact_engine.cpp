// Exact mode: set-up, OTF, initial estimate and the step of rl::iterate(); see
// exact_engine_impl.hpp for one iteration.
#include <omp.h>

#include <algorithm>
#include <utility>

#include "backend/cpu/fftw_plan.hpp"
#include "backend/fftw_mpi/exact_engine_impl.hpp"
#include "h5decon/back_projector.hpp"
#include "h5decon/error.hpp"
#include "h5decon/fft_shape.hpp"
#include "h5decon/rl_domain.hpp"
#include "rl/iteration.hpp"
#include "rl/voxel.hpp"

namespace h5decon::exact {
namespace {

// Plain modes extend the volume by psf/2 with their mode; bertero's operand is its
// whole domain with no margins (as CpuEngine's layout).
SlabGeometry geometry_for(Shape3 volume, Shape3 psf, const RlOptions& o, Shape3 fft,
                          const LocalSizes& local, MPI_Comm comm) {
  if (o.boundary != Boundary::bertero)
    return make_geometry(volume, psf, o.boundary, fft, local, comm);
  return make_geometry(estimate_shape(o.boundary, volume, psf), {1, 1, 1}, Boundary::zero, fft,
                       local, comm);
}

struct Slabs {
  PlaneRange in, out;
};

// Result planes: the owned domain planes, shifted by the bertero margin and cut to
// the volume. Observed planes: the same, but for bertero every plane its domain
// reads (the edge planes its margins replicate for init=observed, too).
Slabs slabs_of(PlaneRange dom, std::int64_t m, std::int64_t n) {
  if (dom.size() == 0) return {{0, 0}, {0, 0}};
  PlaneRange out{std::clamp<std::int64_t>(dom.begin - m, 0, n),
                 std::clamp<std::int64_t>(dom.end - m, 0, n)};
  if (out.end < out.begin) out.begin = out.end;
  const PlaneRange in{std::clamp<std::int64_t>(dom.begin - m, 0, n - 1),
                      std::clamp<std::int64_t>(dom.end - 1 - m, 0, n - 1) + 1};
  return {in, out};
}

}  // namespace

SlabGeometry make_geometry(Shape3 domain, Shape3 psf, Boundary boundary, Shape3 fft,
                           const LocalSizes& local, MPI_Comm comm) {
  int ranks = 1, rank = 0;
  MPI_Comm_size(comm, &ranks);
  MPI_Comm_rank(comm, &rank);
  std::vector<std::int64_t> mine{local.start0, local.n0}, all(2 * std::size_t(ranks));
  MPI_Allgather(mine.data(), 2, MPI_INT64_T, all.data(), 2, MPI_INT64_T, comm);
  std::vector<std::int64_t> starts, counts;
  std::int64_t next = 0;
  for (int r = 0; r < ranks; ++r) {
    const std::int64_t s = all[2 * r], n = all[2 * r + 1];
    H5DECON_REQUIRE(n == 0 || s == next, BackendError,
                    "FFTW-MPI gave rank ", r, " planes from ", s, ", expected ", next);
    starts.push_back(n == 0 ? next : s);
    counts.push_back(n);
    next += n;
  }
  H5DECON_REQUIRE(next == fft.z, BackendError, "FFTW-MPI distributed ", next, " of ", fft.z,
                  " planes");
  return SlabGeometry(domain, psf, boundary, fft, std::move(starts), std::move(counts), rank);
}

ExactMemory exact_memory(Shape3 volume, Shape3 psf, const RlOptions& o, MPI_Comm comm,
                         const BackendOptions& backend, Shape3 fft) {
  fft = resolve_fft_shape(volume, psf, fft);
  const LocalSizes local = local_sizes(fft, comm);
  const SlabGeometry g = geometry_for(volume, psf, o, fft, local, comm);
  const Shape3 e = g.domain();
  const Slabs s = slabs_of(g.local_domain(), estimate_margin(o.boundary, psf).z, volume.z);
  ExactMemory m;
  m.fft = fft;
  m.fft_planes = local.n0;
  m.fft_range = {local.start0, local.start0 + local.n0};
  m.output = s.out;
  const std::int64_t otfs = 1 + (o.back_projector == BackProjector::wb);  // the PSF's, B's
  m.fft_bytes = 8 * (local.alloc + otfs * local.n1 * fft.z * (fft.x / 2 + 1));
  const bool tv = o.tv_lambda > 0;
  const std::int64_t estimates = 1 + (o.boundary == Boundary::bertero) +
                                 3 * extrapolates(o.accel) + tv +
                                 rl::Schedule{o}.saves_best_operand();  // best
  const std::int64_t plane = volume.y * volume.x;
  // RL-TV: two neighbouring planes and TvFactor's scratch (6 planes per thread).
  const std::int64_t tv_planes = tv ? 2 + 6 * cpu::resolve_threads(backend) : 0;
  m.slab_bytes = 4 * (estimates * g.local_domain().size() * e.y * e.x + tv_planes * e.y * e.x +
                      (s.in.size() + s.out.size()) * plane) +
                 HaloExchange(g, comm).bytes();
  return m;
}

ExactEngine::Impl::Impl(const Psf& psf, Shape3 volume, const RlOptions& o, MPI_Comm c,
                        const BackendOptions& backend, Shape3 fft_shape)
    : shape(volume),
      domain(estimate_shape(o.boundary, volume, psf.kernel.shape)),
      margin(estimate_margin(o.boundary, psf.kernel.shape)),
      options(o),
      comm(c),
      threads(cpu::resolve_threads(backend)),
      fft(resolve_fft_shape(volume, psf.kernel.shape, fft_shape), c, backend),
      geom(geometry_for(volume, psf.kernel.shape, o, fft.shape(), fft.local(), c)),
      halo(geom, c),
      otf(fft.spectrum_size()) {
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &ranks);
  dom = geom.local_domain();
  const Slabs s = slabs_of(dom, margin.z, shape.z);
  in = s.in;
  out = s.out;
  const auto slab = static_cast<std::size_t>(dom.size() * domain_plane());
  u.resize(slab);
  measure_divergence = rl::Schedule{options}.measures_divergence();
  if (rl::Schedule{options}.saves_best_operand()) best.assign(slab, 0.0f);
  compute_otf(psf.kernel, otf);
  if (options.back_projector == BackProjector::wb) {
    back_otf = ComplexBuffer(fft.spectrum_size());
    compute_otf(back_kernel(psf, options), back_otf);
  }
  if (bertero()) compute_weights();
  if (extrapolates(options.accel))
    for (auto* v : {&x_prev, &g_new, &g_old}) v->assign(slab, 0.0f);
  if (options.tv_lambda > 0) {
    tv.emplace(domain, threads);
    tv_factor.assign(slab, 0.0f);
    u_below.assign(std::size_t(domain_plane()), 0.0f);
    u_above.assign(std::size_t(domain_plane()), 0.0f);
    for (int r = 0; r < ranks; ++r) doms.push_back(geom.domain_planes(r));
  }
}

// RL-TV reads u one plane beyond the slab on each side: each rank sends its first
// owned plane to the owner of the plane before and its last to the owner of the next.
void ExactEngine::Impl::exchange_edge_planes() {
  if (dom.size() == 0) return;
  const int count = int(domain_plane());
  auto owner = [&](std::int64_t z) {
    for (int r = 0; r < ranks; ++r)
      if (doms[r].size() > 0 && z >= doms[r].begin && z < doms[r].end) return r;
    return -1;
  };
  constexpr int kToAbove = 0x5456, kToBelow = 0x5457;  // the receiver's below / above plane
  std::vector<MPI_Request> req;
  auto add = [&](auto call) { req.emplace_back(); call(&req.back()); };
  const int below = dom.begin > 0 ? owner(dom.begin - 1) : -1;
  const int above = dom.end < domain.z ? owner(dom.end) : -1;
  if (below >= 0) {
    add([&](MPI_Request* r) { MPI_Irecv(u_below.data(), count, MPI_FLOAT, below, kToAbove, comm, r); });
    add([&](MPI_Request* r) { MPI_Isend(u.data(), count, MPI_FLOAT, below, kToBelow, comm, r); });
  }
  if (above >= 0) {
    add([&](MPI_Request* r) { MPI_Irecv(u_above.data(), count, MPI_FLOAT, above, kToBelow, comm, r); });
    const float* last = u.data() + (dom.size() - 1) * domain_plane();
    add([&](MPI_Request* r) { MPI_Isend(last, count, MPI_FLOAT, above, kToAbove, comm, r); });
  }
  MPI_Waitall(int(req.size()), req.data(), MPI_STATUSES_IGNORE);
}

void ExactEngine::Impl::compute_tv_factor() {
  exchange_edge_planes();
  const std::int64_t plane = domain_plane();
  auto u_plane = [&](std::int64_t z) -> const float* {
    if (z < 0 || z >= domain.z) return nullptr;
    if (z < dom.begin) return u_below.data();
    if (z >= dom.end) return u_above.data();
    return u.data() + (z - dom.begin) * plane;
  };
#pragma omp parallel for schedule(static) num_threads(threads)
  for (std::int64_t z = dom.begin; z < dom.end; ++z)
    tv->plane(u_plane(z - 1), u_plane(z), u_plane(z + 1), options.tv_lambda,
              tv_factor.data() + (z - dom.begin) * plane);
}

void ExactEngine::Impl::compute_otf(const Volume& kernel, ComplexBuffer& dest) {
  // The PSF's centre voxel (n/2 on each axis) goes to the origin; the rest wraps.
  const Shape3 P = fft.shape(), k = kernel.shape;
  const PlaneRange f = geom.local_fft();
  const std::int64_t rs = fft.row_stride();
#pragma omp parallel for schedule(static) num_threads(threads)
  for (std::int64_t p = f.begin; p < f.end; ++p) {
    float* plane = work_plane(p);
    std::fill_n(plane, fft.plane_floats(), 0.0f);
    const std::int64_t z = (p + k.z / 2) % P.z;
    for (std::int64_t y = 0; z < k.z && y < k.y; ++y)
      for (std::int64_t x = 0; x < k.x; ++x)
        plane[((y - k.y / 2 + P.y) % P.y) * rs + (x - k.x / 2 + P.x) % P.x] = kernel.at(z, y, x);
  }
  fft.forward();
  // FFTW's transforms are unnormalised: fold 1/N into the OTF once.
  const float scale = 1.0f / static_cast<float>(P.size());
  const cfloat* spec = fft.spectrum();
  for (std::int64_t i = 0; i < fft.spectrum_size(); ++i) dest.data()[i] = spec[i] * scale;
}

// 1 / max(H^T M, floor) on the owned domain planes, M = 1 on the observed box.
void ExactEngine::Impl::compute_weights() {
  const std::int64_t rs = fft.row_stride();
  for (std::int64_t z = dom.begin; z < dom.end; ++z) {
    const bool zin = z >= margin.z && z < margin.z + shape.z;
    for (std::int64_t y = 0; y < domain.y; ++y) {
      float* row = work_plane(z) + y * rs;
      std::fill_n(row, domain.x, 0.0f);
      if (zin && y >= margin.y && y < margin.y + shape.y) std::fill_n(row + margin.x, shape.x, 1.0f);
    }
  }
  complete_operand();
  convolve(true);
  inv_weights.resize(u.size());
  for (std::int64_t z = dom.begin; z < dom.end; ++z)
    for (std::int64_t y = 0; y < domain.y; ++y) {
      const float* w = work_plane(z) + y * rs;
      float* o = inv_weights.data() + ((z - dom.begin) * domain.y + y) * domain.x;
      for (std::int64_t x = 0; x < domain.x; ++x)
        o[x] = rl::inverse_weight(w[x], rl::weight_floor(options.back_projector));
    }
}

// The sum of every observed voxel in volume order, passed from rank to rank along
// the result slabs (which partition the volume in rank order): the same serial
// double sum as the CPU engine's, so init=mean gives the same bits.
double ExactEngine::Impl::volume_sum() const {
  double s = 0.0;
  if (rank > 0) MPI_Recv(&s, 1, MPI_DOUBLE, rank - 1, 0x4859, comm, MPI_STATUS_IGNORE);
  const std::int64_t plane = shape.y * shape.x;
  const float* first = d + (out.begin - in.begin) * plane;
  for (const float* v = first; v < first + out.size() * plane; ++v) s += *v;
  if (rank + 1 < ranks) MPI_Send(&s, 1, MPI_DOUBLE, rank + 1, 0x4859, comm);
  MPI_Bcast(&s, 1, MPI_DOUBLE, ranks - 1, comm);
  return s;
}

void ExactEngine::Impl::initialise() {
  const Shape3 n = shape, e = domain;
  switch (options.init) {
    case InitMode::observed:  // the domain beyond the volume (bertero): its edge replicated
      for (std::int64_t z = dom.begin; z < dom.end; ++z)
        for (std::int64_t y = 0; y < e.y; ++y) {
          const std::int64_t zo = rl::clamp_index(z - margin.z, n.z);
          const std::int64_t yo = rl::clamp_index(y - margin.y, n.y);
          const float* src = d + ((zo - in.begin) * n.y + yo) * n.x;
          float* dst = u.data() + ((z - dom.begin) * e.y + y) * e.x;
          for (std::int64_t x = 0; x < e.x; ++x) dst[x] = src[rl::clamp_index(x - margin.x, n.x)];
        }
      return;
    case InitMode::constant:
    case InitMode::mean: {
      const double s = options.init == InitMode::mean ? volume_sum() : 0.0;
      std::fill(u.begin(), u.end(), rl::flat_initial_value(options.init, s, double(n.size())));
      return;
    }
  }
}

rl::StepTotals ExactEngine::Impl::step(bool was_predicted, bool /*refill: load_estimate() does*/,
                                       const rl::DivergenceRule& rule) {
  predicted = was_predicted;
  sums.reset(domain.z);
  if (tv) compute_tv_factor();
  convolve(false);
  ratio_pass();
  auto total = [](const std::vector<double>& v) {  // serially in plane order, as the CPU engine
    double s = 0.0;
    for (double x : v) s += x;
    return s;
  };
  if (measure_divergence) {  // every rank the same total, so the same decision
    Sums::combine({&sums.divergence}, comm);
    const double fit = total(sums.divergence);
    const rl::FitVerdict v = rule.verdict(fit);
    if (v == rl::FitVerdict::keep_operand || v == rl::FitVerdict::restore_best) {
      if (v == rl::FitVerdict::restore_best) u = best;
      rl::StepTotals kept;  // no update: the run ends (rl::Schedule::divergence_rule)
      kept.divergence = fit;
      kept.updated = false;
      return kept;
    }
    save_best = v == rl::FitVerdict::save_and_update;  // update_row copies the operand first
  }
  complete_operand();
  convolve(true);
  update_pass();
  Sums::combine({&sums.change, &sums.norm, &sums.dot, &sums.gg}, comm);
  if (extrapolates(options.accel)) std::swap(g_new, g_old);
  return {total(sums.change), total(sums.norm), total(sums.dot), total(sums.gg),
          total(sums.divergence)};
}

void Sums::reset(std::int64_t planes) {
  for (auto* v : {&change, &norm, &dot, &gg, &divergence})
    v->assign(static_cast<std::size_t>(planes), 0.0);
}

void Sums::combine(std::initializer_list<std::vector<double>*> parts, MPI_Comm comm) {
  const std::size_t n = (*parts.begin())->size();
  std::vector<double> all(parts.size() * n);
  std::size_t p = 0;
  for (const auto* v : parts) std::copy(v->begin(), v->end(), all.begin() + std::ptrdiff_t(p++ * n));
  MPI_Allreduce(MPI_IN_PLACE, all.data(), int(all.size()), MPI_DOUBLE, MPI_SUM, comm);
  p = 0;
  for (auto* v : parts) std::copy_n(all.begin() + std::ptrdiff_t(p++ * n), n, v->begin());
}

// ---------------------------------------------------------------------------------------
// ExactEngine

ExactEngine::ExactEngine(const Psf& psf, Shape3 volume, const RlOptions& options, MPI_Comm comm,
                         const BackendOptions& backend, Shape3 fft) {
  validate(options);
  impl_ = std::make_unique<Impl>(psf, volume, options, comm, backend, fft);
}

void ExactEngine::set_background(float background) {
  impl_->options.background = background;
  impl_->options.background_auto = false;
}

ExactEngine::~ExactEngine() = default;

PlaneRange ExactEngine::input_planes() const { return impl_->in; }
PlaneRange ExactEngine::output_planes() const { return impl_->out; }
Shape3 ExactEngine::shape() const { return impl_->shape; }
Shape3 ExactEngine::fft_shape() const { return impl_->fft.shape(); }

std::int64_t ExactEngine::bytes() const {
  const Impl& m = *impl_;
  std::size_t floats = 0;
  for (const auto* v : {&m.u, &m.inv_weights, &m.x_prev, &m.g_new, &m.g_old, &m.tv_factor,
                        &m.u_below, &m.u_above, &m.best})
    floats += v->size();
  return m.fft.bytes() + 8 * (m.otf.size() + m.back_otf.size()) + m.halo.bytes() +
         std::int64_t(4 * floats) +
         (m.tv ? m.tv->bytes() : 0);
}

void ExactEngine::deconvolve(std::span<const float> observed, std::span<float> result,
                             const IterationObserver& observer) {
  Impl& m = *impl_;
  const Shape3 n = m.shape, e = m.domain, g = m.margin;
  const std::int64_t plane = n.y * n.x;
  H5DECON_REQUIRE(std::int64_t(observed.size()) == m.in.size() * plane &&
                      std::int64_t(result.size()) == m.out.size() * plane,
                  Error, "ExactEngine: rank ", m.rank, " expected observed planes [", m.in.begin,
                  ", ", m.in.end, ") and result planes [", m.out.begin, ", ", m.out.end, ") of ",
                  n.str());
  H5DECON_REQUIRE(!m.options.background_auto, Error,
                  "ExactEngine: --background auto needs the volume's estimate (set_background)");
  m.d = observed.data();
  m.background = m.options.background;
  m.initialise();
  rl::iterate(m, m.options, observer);
  for (std::int64_t z = m.out.begin; z < m.out.end; ++z)
    for (std::int64_t y = 0; y < n.y; ++y) {
      const float* src =
          m.u.data() + ((z + g.z - m.dom.begin) * e.y + y + g.y) * e.x + g.x;
      std::copy(src, src + n.x, result.data() + ((z - m.out.begin) * n.y + y) * n.x);
    }
}

}  // namespace h5decon::exact
