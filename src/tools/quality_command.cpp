// `h5decon quality`: runs RL variants on one volume of a `synth` file and prints
// Markdown tables of PSNR / SSIM against /truth by iteration and elapsed time.
// Elapsed time counts the engine only: the observer's snapshot and metrics are
// timed and subtracted.
#include "tools/quality_command.hpp"

#include <mpi.h>

#include <algorithm>
#include <boost/program_options.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <limits>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "app/cli.hpp"
#include "h5decon/back_projector.hpp"
#include "h5decon/backend.hpp"
#include "h5decon/error.hpp"
#include "h5decon/io/hdf5_io.hpp"
#include "h5decon/metrics.hpp"
#include "rl/step.hpp"

namespace po = boost::program_options;

namespace h5decon::tools {
using namespace app;  // the program's shared pieces: options, agreement, errors
namespace {

using Clock = std::chrono::steady_clock;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

struct QualityOptions {
  std::string input;
  std::int64_t c = 0, t = 0;
  int iterations = 60;
  std::string variants = "plain,biggs,bertero,tv,bertero+biggs";
  RlOptions base;  // plain RL: the boundary, init and eps every variant starts from
  float tv = 0.002f;
  std::string background = "auto";
  std::string backend_kind = "cpu";
  BackendOptions backend;
  Shape3 crop{0, 0, 0};  // voxels cut from each face of data and truth
  std::vector<double> stop_divergence;  // where run --stop-divergence X would stop each variant
};

struct Point {
  int iteration = 0;
  double seconds = 0, psnr = 0, ssim = kNaN, change = 0;
  double divergence = kNaN;  // of the iteration's operand (--stop-divergence)
  RegionPsnr region;
  // With --crop: the PSNR of the same shell voxels when the variant runs on the
  // uncropped field, where they lie inside (the edge's cost without the content's).
  double inside = kNaN;
};

struct Trace {
  std::string name;
  RlOptions rl;
  double setup = 0;
  std::vector<Point> points;
  int diverged_at = 0;  // the iteration whose estimate was no longer finite; 0: none
  const Point& best() const {
    return *std::max_element(points.begin(), points.end(),
                             [](const Point& a, const Point& b) { return a.psnr < b.psnr; });
  }
};

struct Truth {
  Volume data, truth;
  Psf psf;
  std::unique_ptr<Ssim3> ssim;
  Shape3 shell;  // PSF-wide edge shell: psf/2 voxels on each face
  // With --crop: the uncropped field, its PSF, and the crop.
  Volume field;
  std::optional<Psf> field_psf;
  Shape3 crop{0, 0, 0};
};

// Iterations where SSIM is computed (it costs seconds on large volumes): a rough
// geometric series, plus the last.
bool ssim_checkpoint(int it, int last) {
  static const std::set<int> at{1, 2, 3, 5, 7, 10, 15, 20, 25, 30, 40, 50, 60, 80, 100, 150, 200};
  return it == last || at.count(it) > 0;
}

// One variant's options: `name` is '+'-separated features on top of the base.
RlOptions variant_options(const std::string& name, const QualityOptions& o) {
  RlOptions rl = o.base;
  rl.iterations = o.iterations;
  rl.estimate_every_iteration = true;  // every iteration is measured
  rl.measure_divergence = !o.stop_divergence.empty();
  std::stringstream in(name);
  for (std::string f; std::getline(in, f, '+');) {
    if (f == "plain") continue;
    if (f == "biggs" || f == "biggs-log")
      rl.accel = parse_acceleration(f);
    else if (f == "bertero")
      rl.boundary = Boundary::bertero;
    else if (f == "wb")
      rl.back_projector = BackProjector::wb;
    else if (f == "tv")
      rl.tv_lambda = o.tv;
    else if (f == "background") {
      rl.background_auto = o.background == "auto";
      if (!rl.background_auto) rl.background = std::stof(o.background);
    } else if (f == "zero" || f == "reflect" || f == "neumann" || f == "periodic")
      rl.boundary = parse_boundary(f);
    else
      throw UsageError("--variants: unknown feature '" + f +
                       "'; valid: plain, biggs, biggs-log, bertero, wb, tv, background, zero, reflect, "
                       "neumann, periodic, joined by '+'");
  }
  return rl;
}

Point measure(const IterationReport& r, const Truth& t, Volume& snap) {
  H5DECON_REQUIRE(bool(r.copy_estimate), Error,
                  "quality: the engine did not hand out its estimate at iteration ", r.iteration);
  r.copy_estimate(snap.span());
  Point p;
  p.iteration = r.iteration;
  p.change = r.relative_change;
  p.divergence = r.divergence;
  p.psnr = psnr(snap.span(), t.truth.span());
  p.region = region_psnr(snap.span(), t.truth.span(), snap.shape, t.shell);
  if (ssim_checkpoint(r.iteration, r.stopping ? r.iteration : -1)) p.ssim = (*t.ssim)(snap.span());
  return p;
}

// The box of `v` without `m` voxels on each face.
Volume crop_faces(const Volume& v, Shape3 m) {
  const Shape3 s{v.shape.z - 2 * m.z, v.shape.y - 2 * m.y, v.shape.x - 2 * m.x};
  H5DECON_REQUIRE(s.z > 0 && s.y > 0 && s.x > 0, UsageError, "--crop ", m.str(),
                  " leaves nothing of ", v.shape.str());
  Volume out(s);
  for (std::int64_t z = 0; z < s.z; ++z)
    for (std::int64_t y = 0; y < s.y; ++y)
      std::copy_n(v.data.begin() + ((z + m.z) * v.shape.y + y + m.y) * v.shape.x + m.x, s.x,
                  out.data.begin() + (z * s.y + y) * s.x);
  return out;
}

// The edge's cost without the content's: runs the variant on the uncropped field
// and records, per iteration, the PSNR of the cropped box's shell voxels there.
void measure_inside(Trace& tr, const Truth& t, Backend& backend) {
  Psf psf = *t.field_psf;
  attach_back_projector(psf, tr.rl);
  auto engine = backend.make_engine(psf, t.field.shape, tr.rl);
  Volume u(t.field.shape), snap(t.field.shape);
  std::size_t i = 0;
  try {
    engine->deconvolve(t.field.span(), u.span(), [&](const IterationReport& r) {
      if (i >= tr.points.size()) return;
      r.copy_estimate(snap.span());
      const Volume box = crop_faces(snap, t.crop);
      tr.points[i++].inside = region_psnr(box.span(), t.truth.span(), box.shape, t.shell).shell;
    });
  } catch (const DivergedError&) {  // the rest stay NaN
  }
}

Trace run_variant(const std::string& name, const QualityOptions& o, const Truth& t,
                  Backend& backend) {
  Trace tr{name, variant_options(name, o), 0, {}};
  const auto t0 = Clock::now();
  Psf psf = t.psf;  // the back projector is made per variant and timed with its set-up
  const std::string back = attach_back_projector(psf, tr.rl);
  if (!back.empty()) std::fprintf(stderr, "  %-16s %s\n", name.c_str(), back.c_str());
  auto engine = backend.make_engine(psf, t.data.shape, tr.rl);
  tr.setup = std::chrono::duration<double>(Clock::now() - t0).count();
  Volume u(t.data.shape), snap(t.data.shape);
  double excluded = 0;
  const auto start = Clock::now();
  try {
    engine->deconvolve(t.data.span(), u.span(), [&](const IterationReport& r) {
      const auto now = Clock::now();
      Point p = measure(r, t, snap);
      p.seconds = std::chrono::duration<double>(now - start).count() - excluded;
      tr.points.push_back(p);
      excluded += std::chrono::duration<double>(Clock::now() - now).count();
    });
  } catch (const DivergedError& e) {  // the trace ends there; the table says so
    tr.diverged_at = e.iteration();
    tr.name += " (diverged at " + std::to_string(e.iteration()) + ")";
    if (tr.points.empty()) throw;
  }
  std::fprintf(stderr, "  %-16s best %.2f dB at iteration %d\n", name.c_str(), tr.best().psnr,
               tr.best().iteration);
  if (t.field_psf) measure_inside(tr, t, backend);
  return tr;
}

Truth load(const QualityOptions& o) {
  const io::InputDataset input(io::DatasetRef::parse(o.input, "/data"), MPI_COMM_SELF);
  Truth t;
  t.data = input.read_volume(o.c, o.t);
  t.truth = io::InputDataset(io::DatasetRef{io::DatasetRef::parse(o.input, "/data").file, "/truth"},
                             MPI_COMM_SELF)
                .read_volume(o.c, o.t);
  const std::string file = io::DatasetRef::parse(o.input, "/data").file;
  const Volume raw_psf =
      io::read_psfs(io::DatasetRef{file, "/psf"}, MPI_COMM_SELF, input.shape().c)[std::size_t(o.c)];
  // A field of view that cuts through the scene: light from beyond its edges is in
  // the data, as in a real acquisition (synth itself blurs with the reflect boundary).
  if (o.crop.z + o.crop.y + o.crop.x > 0) {
    t.field_psf = prepare_psf(raw_psf, file + ":/psf", t.data.shape);
    t.field = std::move(t.data);
    t.crop = o.crop;
    t.data = crop_faces(t.field, o.crop);
    t.truth = crop_faces(t.truth, o.crop);
  }
  t.psf = prepare_psf(raw_psf, file + ":/psf", t.data.shape);
  const Shape3 k = t.psf.kernel.shape;
  t.shell = {k.z / 2, k.y / 2, k.x / 2};
  t.ssim = std::make_unique<Ssim3>(t.truth.span(), t.truth.shape);
  return t;
}

// Time and iteration at which a trace first reaches `target` dB (within 0.01 dB,
// so that an equal PSNR is not missed by rounding), or nullptr. Plain RL's own
// time to its best is measured the same way, so its ratio is 1.
const Point* first_reaching(const Trace& tr, double target) {
  for (const Point& p : tr.points)
    if (p.psnr >= target - 0.01) return &p;
  return nullptr;
}

// Where run --stop-divergence x stops the trace (rl::DivergenceRule): the iteration k
// whose step ends the run and the estimate it leaves, the best-fitting operand (the
// estimate after its iteration - 1 updates; the data itself for the first, which has
// no point). Null when the rule does not stop within the trace.
const Point* divergence_stop(const Trace& tr, double x, int* at, int* kept) {
  rl::DivergenceRule rule{true, 0.0, x, 0};
  int best = 0;
  for (std::size_t k = 1; k <= tr.points.size(); ++k) {
    const double fit = tr.points[k - 1].divergence;
    const rl::FitVerdict v = rule.verdict(fit);
    if (v == rl::FitVerdict::save_and_update) best = int(k);
    if (v == rl::FitVerdict::keep_operand || v == rl::FitVerdict::restore_best) {
      *at = int(k);
      *kept = v == rl::FitVerdict::keep_operand ? int(k) : best;
      return *kept >= 2 ? &tr.points[std::size_t(*kept - 2)] : nullptr;
    }
    rule = rule.after(fit);
  }
  *at = 0;
  return nullptr;
}

double best_ssim(const Trace& tr) {
  double s = kNaN;
  for (const Point& p : tr.points)
    if (!std::isnan(p.ssim) && !(p.ssim <= s)) s = p.ssim;
  return s;
}

void print_summary(const std::vector<Trace>& traces, bool cropped,
                   const std::vector<double>& stop_divergence) {
  const Trace& plain = traces.front();
  const Point& pb = plain.best();
  const double plain_seconds = first_reaching(plain, pb.psnr)->seconds;
  std::printf(
      "\n| variant | s/iteration | best PSNR dB (iteration, s) | best SSIM | shell / interior "
      "PSNR at best | reaches %s's best %.2f dB at | time vs %s |%s",
      plain.name.c_str(), pb.psnr, plain.name.c_str(),
      cropped ? " shell at the edge / inside the uncropped field (edge loss) |" : "");
  for (double x : stop_divergence)
    std::printf(" --stop-divergence %g: ends at, PSNR (below best) |", x);
  std::printf("\n|---|---|---|---|---|---|---|%s", cropped ? "---|" : "");
  for (std::size_t i = 0; i < stop_divergence.size(); ++i) std::printf("---|");
  std::printf("\n");
  for (const Trace& tr : traces) {
    const Point& b = tr.best();
    const Point* r = first_reaching(tr, pb.psnr);
    char reach[64] = "never", ratio[32] = "-";
    if (r) {
      std::snprintf(reach, sizeof reach, "it %d, %.2f s", r->iteration, r->seconds);
      std::snprintf(ratio, sizeof ratio, "%.2f", r->seconds / plain_seconds);
    }
    std::printf("| %s | %.3f | %.2f (%d, %.2f) | %.4f | %.2f / %.2f (gap %.2f) | %s | %s |",
                tr.name.c_str(), tr.points.back().seconds / double(tr.points.size()), b.psnr,
                b.iteration, b.seconds, best_ssim(tr), b.region.shell, b.region.interior,
                b.region.interior - b.region.shell, reach, ratio);
    if (cropped)
      std::printf(" %.2f / %.2f (loss %.2f) |", b.region.shell, b.inside,
                  b.inside - b.region.shell);
    for (double x : stop_divergence) {
      int at = 0, kept = 0;
      const Point* p = divergence_stop(tr, x, &at, &kept);
      if (at == 0)
        std::printf(" not within %zu iterations |", tr.points.size());
      else if (!p)
        std::printf(" it %d, the data itself |", at);
      else
        std::printf(" it %d, %.2f dB (%.2f) |", at, p->psnr, b.psnr - p->psnr);
    }
    std::printf("\n");
  }
}

void print_by_iteration(const std::vector<Trace>& traces) {
  std::printf(
      "\nPSNR dB / SSIM (elapsed s) by iteration; SSIM at checkpoints only:\n\n| iteration |");
  for (const Trace& tr : traces) std::printf(" %s |", tr.name.c_str());
  std::printf("\n|---|");
  for (std::size_t i = 0; i < traces.size(); ++i) std::printf("---|");
  std::printf("\n");
  std::size_t rows = 0;
  for (const Trace& tr : traces) rows = std::max(rows, tr.points.size());
  for (std::size_t i = 0; i < rows; ++i) {
    const int it = int(i) + 1;
    bool any = false;
    for (const Trace& tr : traces)
      any = any || (i < tr.points.size() && !std::isnan(tr.points[i].ssim));
    if (!any) continue;
    std::printf("| %d |", it);
    for (const Trace& tr : traces) {
      if (i >= tr.points.size()) {
        std::printf(" - |");
        continue;
      }
      const Point& p = tr.points[i];
      if (std::isnan(p.ssim))
        std::printf(" %.2f (%.2f s) |", p.psnr, p.seconds);
      else
        std::printf(" %.2f / %.4f (%.2f s) |", p.psnr, p.ssim, p.seconds);
    }
    std::printf("\n");
  }
}

int run(const QualityOptions& o) {
  auto backend = make_backend(o.backend_kind, o.backend);  // an unavailable one before any read
  const Truth t = load(o);
  std::printf(
      "h5decon quality: %s c=%lld t=%lld, volume %s, PSF %s, up to %d iterations, base "
      "boundary %s, init %s, tv %g, background %s, backend %s\n",
      o.input.c_str(), (long long)o.c, (long long)o.t, t.data.shape.str().c_str(),
      t.psf.kernel.shape.str().c_str(), o.iterations, to_string(o.base.boundary).c_str(),
      to_string(o.base.init).c_str(), double(o.tv), o.background.c_str(), backend->name().c_str());
  std::printf(
      "input: PSNR %.2f dB, SSIM %.4f; shell = %s voxels from each face; cropped by %s "
      "on each face\n",
      psnr(t.data.span(), t.truth.span()), (*t.ssim)(t.data.span()), t.shell.str().c_str(),
      o.crop.str().c_str());
  std::vector<Trace> traces;
  std::stringstream in(o.variants);
  for (std::string name; std::getline(in, name, ',');)
    traces.push_back(run_variant(name, o, t, *backend));
  H5DECON_REQUIRE(!traces.empty(), UsageError, "--variants: no variant given");
  print_summary(traces, t.field_psf.has_value(), o.stop_divergence);
  print_by_iteration(traces);
  return 0;
}

}  // namespace

int quality_command(int argc, char** argv) {
  QualityOptions o;
  std::string boundary = "reflect", init = "observed", planner = "measure";
  po::options_description desc(
      "h5decon quality: PSNR/SSIM vs /truth of a `synth` file by iteration and time, per variant");
  desc.add_options()("help,h", "show this help")("input", po::value(&o.input)->required(),
                                                 "FILE.h5[:/data] written by `h5decon synth`")(
      "volume", po::value<std::vector<std::int64_t>>()->multitoken(), "c t of the volume (0 0)")(
      "iterations", po::value(&o.iterations)->default_value(60), "iterations of every variant")(
      "variants", po::value(&o.variants)->default_value(o.variants),
      "comma-separated; each is plain or features joined by '+': biggs, biggs-log, bertero, wb, tv, "
      "background, or a boundary name")("boundary", po::value(&boundary)->default_value("reflect"),
                                        "plain RL's boundary")(
      "init", po::value(&init)->default_value("observed"), "observed|constant|mean")(
      "tv", po::value(&o.tv)->default_value(0.002f, "0.002"), "lambda of the tv feature")(
      "wb-alpha", po::value(&o.base.wb.alpha)->default_value(0.05, "0.05"),
      "the wb feature's Wiener alpha (run --wb-alpha)")(
      "wb-beta", po::value(&o.base.wb.beta)->default_value(0.0, "0"),
      "the wb feature's gain at the cut-off; 0: the OTF's (run --wb-beta auto)")(
      "wb-order", po::value(&o.base.wb.order)->default_value(10), "the wb feature's Butterworth order")(
      "stop-divergence", po::value<std::string>(),
      "X[,X...]: measure each iteration's I-divergence and show where run --stop-divergence X "
      "would end each variant, and its PSNR there")(
      "background", po::value(&o.background)->default_value("auto"),
      "B or auto: the background feature's value")(
      "threads", po::value(&o.backend.threads)->default_value(0), "threads (0: all cores)")(
      "backend", po::value(&o.backend_kind)->default_value("cpu"),
      "cpu|cuda: where every variant runs (cuda: each iteration is waited for, so that its "
      "estimate can be measured)")(
      "fft-planner", po::value(&planner)->default_value("measure"), "estimate|measure|patient")(
      "crop", po::value<std::vector<std::int64_t>>()->multitoken(),
      "Z Y X: cut this many voxels from each face of data and truth first, so that the "
      "field of view's edges cut through the scene; each variant then also runs on the "
      "uncropped field, for the edge loss: the shell voxels' PSNR there minus at the edge");
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, desc), vm);
    if (vm.count("help")) {
      std::cout << desc << "\n";
      return 0;
    }
    po::notify(vm);
  } catch (const po::error& e) {
    throw UsageError(std::string("quality: ") + e.what());
  }
  if (vm.count("volume")) {
    const auto v = vm["volume"].as<std::vector<std::int64_t>>();
    H5DECON_REQUIRE(v.size() == 2, UsageError, "--volume takes two numbers: c t");
    o.c = v[0];
    o.t = v[1];
  }
  if (vm.count("crop")) {
    const auto v = vm["crop"].as<std::vector<std::int64_t>>();
    H5DECON_REQUIRE(v.size() == 3 && v[0] >= 0 && v[1] >= 0 && v[2] >= 0, UsageError,
                    "--crop takes three numbers >= 0: Z Y X");
    o.crop = {v[0], v[1], v[2]};
  }
  H5DECON_REQUIRE(o.iterations >= 1, UsageError, "--iterations must be >= 1");
  if (vm.count("stop-divergence")) {
    std::stringstream in(vm["stop-divergence"].as<std::string>());
    for (std::string x; std::getline(in, x, ',');) {
      const double v = parse_number("stop-divergence", x);
      H5DECON_REQUIRE(v > 0 && v < 1, UsageError, "--stop-divergence: '", x,
                      "' is not a number in (0, 1)");
      o.stop_divergence.push_back(v);
    }
  }
  try {
    validate(o.base);
  } catch (const InputError& e) {
    throw UsageError(std::string("quality: ") + e.what());
  }
  o.base.boundary = parse_boundary(boundary);
  o.base.init = parse_init(init);
  o.backend.planner = parse_planner(planner);
  for (std::stringstream in(o.variants); !in.eof();) {  // refuse a bad variant before any work
    std::string name;
    std::getline(in, name, ',');
    variant_options(name, o);
  }
  return run(o);
}

}  // namespace h5decon::tools
