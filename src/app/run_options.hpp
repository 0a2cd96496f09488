#pragma once
// The options of `h5decon run`, parsed and checked before any file is touched.

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "cli.hpp"
#include "h5decon/backend.hpp"
#include "h5decon/shape.hpp"
#include "h5decon/io/hdf5_io.hpp"
#include "h5decon/rl_options.hpp"

namespace h5decon::app {

/// Everything `h5decon run` needs to know, resolved from command line and config.
struct RunSettings {
  bool help = false;     ///< print help and stop
  bool dry_run = false;  ///< print the resolved settings and stop
  io::DatasetRef input, psf, output;
  std::string inputs;  ///< --inputs: a list file or a glob of many inputs (run_batch.hpp); "" for one
  std::string axes;  ///< "" (rank 5, ctzyx), "zyx", "czyx" or "tzyx"
  RlOptions rl;
  int max_iterations = 0;  ///< --max-iterations when given (then rl.iterations too)
  double psf_crop = 0;  ///< --psf-crop: share of each PSF's flux kept by cropping; 0: off
  bool psf_resample = false;       ///< --psf-resample: a PSF at another voxel size is resampled
  bool ignore_voxel_size = false;  ///< --ignore-voxel-size: a PSF voxel size unlike the data's is a warning
  std::string backend = "cpu";  ///< as given: auto, cpu or cuda
  BackendOptions backend_options;
  bool overwrite = false;
  std::string mode = "blocks";  ///< blocks, or exact (run_exact.hpp)
  std::optional<Shape3> halo;   ///< --halo; empty: auto from the PSF
  std::optional<Shape3> block;  ///< --block; empty: auto within the memory budget
  bool auto_memory_budget = true;   ///< --memory-budget auto: resolved per node at run time
  std::int64_t memory_budget = 0;   ///< --memory-budget in bytes when not auto; 0: unlimited
  double progress_interval = 10;    ///< seconds between progress lines in a batch log
  int log_iterations = 0;           ///< --log-iterations K: every K-th iteration; 0: off
  bool resume = false;              ///< --resume: finish the partial output of an interrupted run
  bool allow_singleton = false;     ///< --allow-singleton: 1 rank although SLURM_NTASKS > 1
  std::string shard = "off";        ///< --shard: K/N, auto (from SLURM_ARRAY_*) or off
  bool sync_blocks = false;         ///< --sync-blocks: fdatasync the output after each block
  bool no_compute = false;          ///< --no-compute (diagnostic): write the observed data
  bool direct_reads = false;        ///< --read direct: every rank reads its own regions
  bool chunk_reads = false;         ///< --read chunks: rank 0 holds whole chunks for the regions
  /// Every recorded option's canonical value (run_option_table.hpp), for the
  /// provenance, --dry-run and the signature.
  std::map<std::string, std::string> resolved;
};

/// The option descriptions of `run` (generic options included), from its table
/// (run_option_table.hpp).
po::options_description run_option_descriptions();

/// One-line synopsis and description of `run`, for --help.
extern const char* const kRunSynopsis;
extern const char* const kRunDescription;

/// Parses and validates the options of `run` through the table; argv[0] is the
/// command name. Throws UsageError for a missing, unknown or invalid option, and
/// for options the chosen --mode does not support.
RunSettings parse_run_settings(int argc, const char* const argv[]);

/// InputError when --background B is at least the largest value the input's
/// integer type holds (255, 65535, ...): every voxel would lie below the model's
/// background, and the result decays to 0. Float data: no bound is known.
void check_background_for(const RlOptions& rl, io::DType dtype, const std::string& input);

/// Prints the resolved settings, one "name = value" per line (a valid config file).
void print_settings(std::ostream& os, const RunSettings& settings);

}  // namespace h5decon::app
