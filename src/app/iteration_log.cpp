// Lines about the RL iterations of `run`'s blocks and their run-wide summary.
#include "app/iteration_log.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <ostream>

#include "app/cli.hpp"
#include "h5decon/error.hpp"

namespace h5decon::app {
namespace {

std::string scientific(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3e", v);
  return buf;
}

// A stop criterion was met (not just the iteration count reached).
bool met_criterion(const IterationReport& r, const RlOptions& rl) {
  return r.stopping && r.iteration < rl.iterations;
}

// Which one: the relative change, else the I-divergence.
std::string criterion(const IterationReport& r, const RlOptions& rl) {
  if (rl.stop_rel_change > 0 && r.relative_change < rl.stop_rel_change)
    return "below --stop-rel-change " + scientific(rl.stop_rel_change);
  const std::string rule = "the I-divergence improved on its best by less than --stop-divergence " +
                           scientific(rl.stop_divergence) + " twice in a row";
  return rule + (r.restored ? "; the result is an earlier start, the best fit"
                            : "; the result is this start, the best fit");
}

// The stop rules in force, for the summary.
std::string rules(const RlOptions& rl) {
  std::string out;
  if (rl.stop_rel_change > 0) out = "--stop-rel-change " + scientific(rl.stop_rel_change);
  if (rl.stop_divergence > 0)
    out += (out.empty() ? "" : " or ") + ("--stop-divergence " + scientific(rl.stop_divergence));
  return out;
}

}  // namespace

std::string IterationSource::str() const {
  return detail::concat(block >= 0 ? "block " + std::to_string(block) : std::string("volume"),
                        " (c ", c, ", t ", t, ")");
}

std::string iteration_line(const IterationSource& s, const IterationReport& r,
                           const RlOptions& rl) {
  char alpha[32] = "";
  if (extrapolates(rl.accel)) std::snprintf(alpha, sizeof alpha, ", alpha %.3f", r.alpha);
  return detail::concat(s.str(), " iteration ", r.iteration, "/", rl.iterations,
                        ": relative change ", scientific(r.relative_change), alpha,
                        std::isnan(r.divergence)
                            ? std::string()
                            : ", I-divergence of its start " + scientific(r.divergence));
}

std::string block_line(const IterationSource& s, const IterationReport& r, const RlOptions& rl) {
  return detail::concat(s.str(), ": ", r.iteration, r.iteration == 1 ? " iteration" : " iterations",
                        ", last relative change ", scientific(r.relative_change),
                        met_criterion(r, rl) ? ", " + criterion(r, rl) : std::string());
}

IterationLog::IterationLog(int every, const RlOptions& rl, std::ostream& out, bool records,
                           bool terminal)
    : every_(every),
      rl_(rl),
      out_(out),
      records_(records),
      line_start_(terminal ? "\r\033[K" : "") {
  H5DECON_REQUIRE(every >= 1, UsageError, "--log-iterations must be >= 1 here, got ", every);
}

void IterationLog::record(const IterationSource& s, const IterationReport& r) {
  if (!records_) return;
  std::string lines;
  if (r.iteration % every_ == 0) lines = line_start_ + iteration_line(s, r, rl_) + "\n";
  if (r.stopping) lines += line_start_ + block_line(s, r, rl_) + "\n";
  std::lock_guard lock(mutex_);
  if (!lines.empty()) out_ << lines << std::flush;  // one write: ranks' lines do not interleave
  if (!r.stopping) return;
  volumes_ = s.block < 0;
  const bool first = blocks_++ == 0;
  iterations_ += r.iteration;
  met_ += met_criterion(r, rl_);
  min_iterations_ = first ? r.iteration : std::min(min_iterations_, r.iteration);
  max_iterations_ = first ? r.iteration : std::max(max_iterations_, r.iteration);
  min_change_ = first ? r.relative_change : std::min(min_change_, r.relative_change);
  max_change_ = first ? r.relative_change : std::max(max_change_, r.relative_change);
}

std::string IterationLog::summary(MPI_Comm comm) const {
  std::lock_guard lock(mutex_);
  const bool any = blocks_ > 0;
  constexpr double kInf = std::numeric_limits<double>::infinity();
  // Minima as maxima of negatives: one MPI_MAX reduction for all.
  double mins_maxes[4] = {any ? -double(min_iterations_) : -kInf,
                          any ? double(max_iterations_) : -kInf, any ? -min_change_ : -kInf,
                          any ? max_change_ : -kInf};
  std::int64_t sums[3] = {blocks_, iterations_, met_};
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  double m[4];
  std::int64_t total[3];
  MPI_Reduce(mins_maxes, m, 4, MPI_DOUBLE, MPI_MAX, 0, comm);
  MPI_Reduce(sums, total, 3, MPI_INT64_T, MPI_SUM, 0, comm);
  if (rank != 0 || total[0] == 0) return "";
  const auto lo = static_cast<std::int64_t>(-m[0]), hi = static_cast<std::int64_t>(m[1]);
  char mean[32];
  std::snprintf(mean, sizeof mean, "%.1f", double(total[1]) / double(total[0]));
  const std::string unit = volumes_ ? " volume" : " block";
  return detail::concat("iterations: ", total[0], unit, total[0] == 1 ? ", " : "s, ",
                        lo == hi ? detail::concat(lo, total[0] == 1 ? "" : " each")
                                 : detail::concat(lo, " to ", hi, " (mean ", mean, ")"),
                        rules(rl_).empty()
                            ? std::string()
                            : detail::concat("; ", total[2], " stopped by ", rules(rl_)),
                        "; last relative change ", scientific(-m[2]),
                        -m[2] == m[3] ? std::string() : " to " + scientific(m[3]));
}

}  // namespace h5decon::app
