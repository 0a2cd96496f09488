// Block decomposition of (c, t) volumes: grid search, chunk alignment, block enumeration.
//
// Chunk rule: along each axis the nominal interior n is split into the fewest
// parts k = ceil(n / limit) that fit the chunk limit, chunk = ceil(n / k), and n
// is rounded up to k * chunk (at most k - 1 voxels more). So the nominal interior
// is always a whole number of chunks, every interior starts on a chunk boundary,
// and only the last interior along an axis (which ends at the volume's far edge)
// may end inside a chunk. On an axis with a single block the interior is the
// whole axis and the chunk is ceil(V / ceil(V / limit)).
//
// Grid search: the cost of a grid is (number of blocks) × (voxels of the largest
// padded FFT), i.e. the FFT work when every block uses the largest FFT shape.
// Both that cost and block_bytes factor per axis, so each axis contributes a
// short list of candidate splits (for each block count, the smallest interior
// giving it; then only splits not dominated in work, FFT extent, region extent
// and block count), and the search tries every combination of the three lists.
#include "h5decon/decomposition.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <iomanip>
#include <limits>
#include <sstream>
#include <tuple>
#include <utility>
#include <vector>

#include "h5decon/error.hpp"
#include "h5decon/fft_shape.hpp"
#include "h5decon/psf_model.hpp"

namespace h5decon {
namespace {

constexpr const char* kAxisName[3] = {"z", "y", "x"};

std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return (a + b - 1) / b; }

/// The interior rounded up to a whole number of chunks (see the chunk rule above).
std::int64_t round_to_chunks(std::int64_t n, std::int64_t limit) {
  const std::int64_t parts = ceil_div(n, limit);
  return parts * ceil_div(n, parts);
}

/// Padded FFT extent of a region of extent `r` along `axis` (as padded_shape does it).
std::int64_t padded_extent(int axis, std::int64_t r, std::int64_t psf) {
  Shape3 region{1, 1, 1}, kernel{1, 1, 1};
  region[axis] = r;
  kernel[axis] = psf;
  return padded_shape(region, kernel)[axis];
}

/// Block bytes from the FFT shape and region shape (see block_bytes).
std::int64_t bytes_of(const Shape3& fft, const Shape3& region) {
  const std::int64_t real = fft.size();
  const std::int64_t half_spectrum = fft.z * fft.y * (fft.x / 2 + 1);
  return 2 * 4 * real + 2 * 8 * half_spectrum + 2 * 4 * region.size();
}

/// First voxel and extent of the interior with index i along one axis.
std::pair<std::int64_t, std::int64_t> axis_interior(std::int64_t extent, std::int64_t n,
                                                    std::int64_t i) {
  const std::int64_t lo = i * n;
  return {lo, std::min(extent, lo + n) - lo};
}

/// First voxel and extent of the region with index i along one axis.
std::pair<std::int64_t, std::int64_t> axis_region(std::int64_t extent, std::int64_t n,
                                                  std::int64_t halo, std::int64_t i) {
  const auto [lo, count] = axis_interior(extent, n, i);
  const std::int64_t first = std::max<std::int64_t>(0, lo - halo);
  return {first, std::min(extent, lo + count + halo) - first};
}

/// One axis's split of a volume.
struct AxisSplit {
  std::int64_t interior = 0, grid = 0, halo = 0, chunk = 0, max_region = 0, max_fft = 0;
  std::int64_t work() const { return grid * max_fft; }
  bool dominates(const AxisSplit& o) const {
    return work() <= o.work() && max_fft <= o.max_fft && max_region <= o.max_region &&
           grid <= o.grid;
  }
};

/// The split of an axis of extent `extent` with nominal interior n (a whole
/// number of chunks, or >= extent for a single block).
AxisSplit make_split(int axis, std::int64_t extent, std::int64_t n, std::int64_t halo,
                     std::int64_t psf, std::int64_t limit) {
  AxisSplit s;
  if (n >= extent) {
    s.interior = extent;
    s.grid = 1;
    s.chunk = ceil_div(extent, ceil_div(extent, limit));
    s.max_region = extent;
  } else {
    s.interior = n;
    s.grid = ceil_div(extent, n);
    s.halo = halo;
    s.chunk = n / ceil_div(n, limit);
    for (std::int64_t i = 0; i < s.grid; ++i)
      s.max_region = std::max(s.max_region, axis_region(extent, n, halo, i).second);
  }
  s.max_fft = padded_extent(axis, s.max_region, psf);
  return s;
}

/// For each block count, the split with the smallest chunk-aligned interior;
/// then only the splits that no other split dominates.
std::vector<AxisSplit> axis_candidates(int axis, std::int64_t extent, std::int64_t halo,
                                       std::int64_t psf, std::int64_t limit) {
  std::vector<AxisSplit> all;
  std::int64_t last_grid = 0;
  for (std::int64_t n = 1; n <= extent; ++n) {
    if (n < extent && round_to_chunks(n, limit) != n) continue;
    const std::int64_t grid = ceil_div(extent, n);
    if (grid == last_grid) continue;
    last_grid = grid;
    all.push_back(make_split(axis, extent, n, halo, psf, limit));
  }
  std::vector<AxisSplit> kept;
  for (std::size_t i = 0; i < all.size(); ++i) {
    bool dominated = false;
    for (std::size_t j = 0; j < all.size() && !dominated; ++j)
      dominated = j != i && all[j].dominates(all[i]);
    if (!dominated) kept.push_back(all[i]);
  }
  return kept;
}

/// The cost of one block: the options' block_cost, else bytes_of().
using BlockCost = std::function<std::int64_t(const Shape3& region, const Shape3& fft)>;

/// A full 3-axis choice.
struct GridChoice {
  AxisSplit axis[3];
  const BlockCost* cost = nullptr;  ///< set: the options' block_cost
  Shape3 max_region() const { return {axis[0].max_region, axis[1].max_region, axis[2].max_region}; }
  Shape3 max_fft() const { return {axis[0].max_fft, axis[1].max_fft, axis[2].max_fft}; }
  std::int64_t bytes() const {
    return cost ? (*cost)(max_region(), max_fft()) : bytes_of(max_fft(), max_region());
  }
  /// Least FFT work, then fewest blocks, then fewest x splits, then fewest y splits.
  bool better_than(const GridChoice& o) const {
    auto key = [](const GridChoice& g) {
      const double work =
          double(g.axis[0].work()) * double(g.axis[1].work()) * double(g.axis[2].work());
      const std::int64_t blocks = g.axis[0].grid * g.axis[1].grid * g.axis[2].grid;
      return std::make_tuple(work, blocks, g.axis[2].grid, g.axis[1].grid);
    };
    return key(*this) < key(o);
  }
};

std::string format_bytes(std::int64_t bytes) {
  std::ostringstream os;
  os << bytes << " bytes (" << std::fixed << std::setprecision(1)
     << double(bytes) / (1024.0 * 1024.0) << " MiB)";
  return os.str();
}

/// "1 block", "3 blocks".
std::string count_of(std::int64_t n, const char* noun) {
  return std::to_string(n) + " " + noun + (n == 1 ? "" : "s");
}

std::string csv(const Shape3& s) {
  return std::to_string(s.z) + "," + std::to_string(s.y) + "," + std::to_string(s.x);
}

[[noreturn]] void throw_budget(const Shape5& dataset, const Shape3& psf, const Shape3& halo,
                               std::int64_t budget, const GridChoice& smallest) {
  throw InputError(detail::concat(
      "memory budget of ", format_bytes(budget), " per block is too small for volumes of ",
      dataset.volume.str(), " with PSF ", psf.str(), " and halo ", halo.str(),
      ": the smallest block (region ", smallest.max_region().str(), ", FFT ",
      smallest.max_fft().str(), ") needs ", format_bytes(smallest.bytes()),
      ". Raise the budget, crop the PSF to its real support, or give a smaller --halo."));
}

/// The cheapest grid whose largest block fits the budget.
GridChoice search_grid(const Shape5& dataset, const Shape3& psf, const Shape3& halo,
                       const DecompositionOptions& options) {
  std::vector<AxisSplit> lists[3];
  for (int a = 0; a < 3; ++a)
    lists[a] = axis_candidates(a, dataset.volume[a], halo[a], psf[a], options.chunk_limit[a]);
  std::optional<GridChoice> best;
  const BlockCost* cost = options.block_cost ? &options.block_cost : nullptr;
  GridChoice smallest{{lists[0][0], lists[1][0], lists[2][0]}, cost};
  for (const AxisSplit& z : lists[0])
    for (const AxisSplit& y : lists[1])
      for (const AxisSplit& x : lists[2]) {
        const GridChoice g{{z, y, x}, cost};
        const std::int64_t bytes = g.bytes();
        if (bytes < smallest.bytes()) smallest = g;
        if (bytes > options.memory_budget_bytes) continue;
        if (!best || g.better_than(*best)) best = g;
      }
  if (!best) throw_budget(dataset, psf, halo, options.memory_budget_bytes, smallest);
  return *best;
}

/// The grid given by an explicit block, or one block per volume.
GridChoice fixed_grid(const Shape5& dataset, const Shape3& psf, const Shape3& halo,
                      const DecompositionOptions& options) {
  GridChoice g;
  if (options.block_cost) g.cost = &options.block_cost;
  for (int a = 0; a < 3; ++a) {
    const std::int64_t extent = dataset.volume[a], limit = options.chunk_limit[a];
    const std::int64_t n =
        options.block ? round_to_chunks(std::min((*options.block)[a], extent), limit) : extent;
    g.axis[a] = make_split(a, extent, n, halo[a], psf[a], limit);
  }
  const std::int64_t budget = options.memory_budget_bytes;
  H5DECON_REQUIRE(!options.block || budget == 0 || g.bytes() <= budget, InputError, "block ",
                  options.block->str(), " needs ", format_bytes(g.bytes()), " (region ",
                  g.max_region().str(), ", FFT ", g.max_fft().str(),
                  "), more than the memory budget of ", format_bytes(budget),
                  " per block; give a smaller --block or leave it out to choose one that fits");
  return g;
}

void require_positive(const Shape3& s, const char* what, const char* hint) {
  for (int a = 0; a < 3; ++a)
    H5DECON_REQUIRE(s[a] >= 1, InputError, what, " ", csv(s), " has ", kAxisName[a], " = ", s[a],
                    "; ", hint);
}

void validate(const Shape5& dataset, const Shape3& psf, const DecompositionOptions& options) {
  H5DECON_REQUIRE(dataset.c >= 1 && dataset.t >= 1, InputError, "dataset shape ", dataset.str(),
                  " (c, t, z, y, x) has no volumes: every axis must be at least 1");
  require_positive(dataset.volume, "dataset volume",
                   "every axis of the dataset must be at least 1 voxel");
  require_positive(psf, "PSF shape", "every axis of the PSF must be at least 1 voxel");
  if (options.halo)
    for (int a = 0; a < 3; ++a)
      H5DECON_REQUIRE((*options.halo)[a] >= 0, InputError, "halo ", csv(*options.halo), " has ",
                      kAxisName[a], " = ", (*options.halo)[a],
                      "; a halo is a number of voxels >= 0 per axis (or 'auto')");
  if (options.block)
    require_positive(*options.block, "block", "a block has at least 1 voxel per axis");
  require_positive(options.chunk_limit, "chunk limit", "chunks have at least 1 voxel per axis");
  H5DECON_REQUIRE(options.memory_budget_bytes >= 0, InputError, "memory budget of ",
                  options.memory_budget_bytes, " bytes is negative; give 0 for unlimited");
  H5DECON_REQUIRE(std::isfinite(options.halo_psf_factor) && options.halo_psf_factor >= 0,
                  InputError, "halo factor ", options.halo_psf_factor,
                  " must be a finite number >= 0");
}

}  // namespace

Shape3 auto_halo(const Shape3& psf, double factor) {
  Shape3 h;
  // The small tolerance keeps e.g. 1.1 * 10 = 11.000000000000002 at 11.
  for (int a = 0; a < 3; ++a)
    h[a] = static_cast<std::int64_t>(std::ceil(factor * double(psf[a]) - 1e-9));
  return h;
}

Shape3 halo_support(const std::vector<Volume>& psfs) {
  Shape3 support{1, 1, 1};
  for (const Volume& psf : psfs) {
    const Shape3 s = crop_psf(psf, kHaloSupportEnergy).psf.shape;
    for (int a = 0; a < 3; ++a) support[a] = std::max(support[a], s[a]);
  }
  return support;
}

std::int64_t block_bytes(const Shape3& region, const Shape3& psf) {
  return bytes_of(padded_shape(region, psf), region);
}

DecompositionPlan plan_decomposition(const Shape5& dataset, const Shape3& psf,
                                     const DecompositionOptions& options) {
  validate(dataset, psf, options);
  const Shape3 halo = options.halo ? *options.halo
                                   : auto_halo(options.psf_support.value_or(psf), options.halo_psf_factor);
  const bool search = !options.block && options.memory_budget_bytes > 0;
  const GridChoice g =
      search ? search_grid(dataset, psf, halo, options) : fixed_grid(dataset, psf, halo, options);
  DecompositionPlan p;
  p.dataset = dataset;
  p.psf = psf;
  for (int a = 0; a < 3; ++a) {
    p.halo[a] = g.axis[a].halo;
    p.interior[a] = g.axis[a].interior;
    p.grid[a] = g.axis[a].grid;
    p.chunk[a] = g.axis[a].chunk;
  }
  p.block_count = dataset.c * dataset.t * p.grid.size();
  p.max_region = g.max_region();
  p.max_fft = g.max_fft();
  p.max_block_bytes = g.bytes();
  p.memory_budget_bytes = options.memory_budget_bytes;
  p.auto_halo = !options.halo;
  p.halo_basis = options.psf_support.value_or(psf);
  p.halo_factor = options.halo_psf_factor;
  p.auto_block = !options.block;
  return p;
}

Block block_at(const DecompositionPlan& plan, std::int64_t id) {
  H5DECON_REQUIRE(id >= 0 && id < plan.block_count, Error, "block id ", id,
                  " is out of range: the plan has ", plan.block_count, " blocks");
  Block b;
  b.id = id;
  std::int64_t rest = id;
  for (int a = 2; a >= 0; --a) {
    b.index[a] = rest % plan.grid[a];
    rest /= plan.grid[a];
  }
  b.t = rest % plan.dataset.t;
  b.c = rest / plan.dataset.t;
  for (int a = 0; a < 3; ++a) {
    const std::int64_t extent = plan.dataset.volume[a], n = plan.interior[a];
    std::tie(b.interior_offset[a], b.interior_count[a]) = axis_interior(extent, n, b.index[a]);
    std::tie(b.region_offset[a], b.region_count[a]) =
        axis_region(extent, n, plan.halo[a], b.index[a]);
  }
  b.fft = padded_shape(b.region_count, plan.psf);
  return b;
}

std::int64_t block_id(const DecompositionPlan& plan, std::int64_t c, std::int64_t t,
                      std::int64_t iz, std::int64_t iy, std::int64_t ix) {
  const Shape3 index{iz, iy, ix};
  H5DECON_REQUIRE(c >= 0 && c < plan.dataset.c && t >= 0 && t < plan.dataset.t, Error,
                  "volume (c=", c, ", t=", t, ") is outside the dataset ", plan.dataset.str());
  for (int a = 0; a < 3; ++a)
    H5DECON_REQUIRE(index[a] >= 0 && index[a] < plan.grid[a], Error, "grid index ", csv(index),
                    " is outside the grid ", plan.grid.str());
  return (((c * plan.dataset.t + t) * plan.grid.z + iz) * plan.grid.y + iy) * plan.grid.x + ix;
}

namespace {

// Sum over the blocks of one volume of `measure(block)`, per voxel of the volume.
template <class Measure>
double per_volume_voxel(const DecompositionPlan& p, Measure measure) {
  double total = 0;
  for (std::int64_t id = 0; id < p.grid.size(); ++id) total += double(measure(block_at(p, id)));
  return total / double(std::max<std::int64_t>(1, p.dataset.volume.size()));
}

std::string fixed2(double v) {
  std::ostringstream os;
  os << std::fixed << std::setprecision(2) << v;
  return os.str();
}

std::string shortest(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

}  // namespace

double DecompositionPlan::read_amplification() const {
  return per_volume_voxel(*this, [](const Block& b) { return b.region_count.size(); });
}

double DecompositionPlan::fft_amplification() const {
  return per_volume_voxel(*this, [](const Block& b) { return b.fft.size(); });
}

std::string describe(const DecompositionPlan& p) {
  const std::int64_t volumes = p.dataset.c * p.dataset.t;
  std::ostringstream os;
  os << "decomposition: " << count_of(p.block_count, "block") << " = "
     << count_of(volumes, "volume") << " (c=" << p.dataset.c << ", t=" << p.dataset.t << ") of "
     << p.dataset.volume.str() << " x " << count_of(p.grid.size(), "block") << " per volume\n"
     << "  grid (z,y,x):     " << p.grid.str() << (p.auto_block ? " (auto)" : " (from --block)")
     << "\n"
     << "  block interior:   " << p.interior.str() << " (the last block per axis may be smaller)\n"
     << "  halo per side:    " << p.halo.str()
     << (p.auto_halo ? " (auto: " + shortest(p.halo_factor) + " x the PSF's support " +
                           p.halo_basis.str() + ", which holds 99.99% of its light)"
                     : std::string(" (explicit)"))
     << ", 0 on unsplit axes\n"
     << "  PSF:              " << p.psf.str() << "\n"
     << "  largest region:   " << p.max_region.str() << "\n"
     << "  amplification:    " << fixed2(p.read_amplification()) << "x the volume's voxels read "
     << "(regions over interiors), " << fixed2(p.fft_amplification()) << "x in FFT voxels\n"
     << "  largest FFT:      " << p.max_fft.str() << " (padded to sizes with factors 2,3,5,7)\n"
     << "  output chunk:     " << p.chunk.str() << "\n"
     << "  memory per block: " << format_bytes(p.max_block_bytes) << ", budget "
     << (p.memory_budget_bytes > 0 ? format_bytes(p.memory_budget_bytes) : "unlimited") << "\n";
  return os.str();
}

}  // namespace h5decon
