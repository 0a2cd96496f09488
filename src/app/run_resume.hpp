#pragma once
// Resumable runs (docs/design.md §4): the signature of a run, the state of the output
// path (complete, partial and resumable, or free), the journal of finished
// blocks, and the clean-up at the end. See run_journal.hpp for the guarantee.
//
// Files beside the output OUT.h5 while a run is under way:
//   OUT.h5.partial          the output being written (renamed to OUT.h5 at the end)
//   OUT.h5.partial.journal  the blocks finished (written by rank 0)
//   OUT.h5.partial.wisdom   the FFTW plans, when planned by measurement without
//                           --wisdom: a resumed run reuses them, so its blocks have
//                           the bits the interrupted run would have given them

#include <mpi.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <set>

#include "h5decon/decomposition.hpp"
#include "h5decon/io/file_identity.hpp"
#include "h5decon/io/hdf5_io.hpp"
#include "h5decon/psf.hpp"
#include "run_journal.hpp"
#include "run_options.hpp"
#include "run_shard.hpp"

namespace h5decon::app {

/// "<output>.partial.wisdom".
std::string auto_wisdom_path(const std::string& output_file);

/// The per-user FFTW wisdom cache: $H5DECON_WISDOM (empty: none), else
/// $XDG_CACHE_HOME/h5decon/fftwf-wisdom, else ~/.cache/h5decon/fftwf-wisdom.
std::string default_wisdom_cache();

/// When plans are measured and no --wisdom was given: the wisdom file is the
/// per-user cache, so that every later run (any rank count, a resume) reuses the
/// plans the first one measured and gets the same bits; without a cache
/// location, auto_wisdom_path() (kept for a resume only). Estimated plans are
/// reproducible without one.
void use_auto_wisdom(RunSettings& s);

/// Local check of the output path (io::check_output_path for the output, its
/// partial file and journal): refuses the input or PSF file, anything but a regular
/// file or a new path; an existing output without --overwrite; --resume without a partial output and journal or
/// with a complete output; and, without --resume or --overwrite, a partial output
/// with a journal (resumable work is never destroyed silently).
void check_output_state(const RunSettings& s);

/// Every setting that changes the output's bits (see Signature): the input's
/// identity (io::FileIdentity), the PSFs' bits, the plan, and every option whose
/// table entry (run_option_table.hpp) says it can change the result, as "opt.NAME".
Signature run_signature(const RunSettings& s, const std::string& backend,
                        const io::InputDataset& input, const std::vector<Psf>& psfs,
                        const DecompositionPlan& plan, const Shard& shard,
                        const io::FileIdentity& input_identity);

/// Local: the input file's identity now.
io::FileIdentity input_identity(const RunSettings& s);

/// Local: InputError when the input file is not what it was at the run's start
/// (checked before the final rename: a result of two inputs is never presented).
void check_input_unchanged(const RunSettings& s, const io::FileIdentity& at_start);

/// The signature as the "shard_signature" attribute: what shards of one job must share.
std::string shard_signature(const Signature& signature);

/// Local, for rank 0 (other ranks: nothing). Resume: opens the journal, refuses a
/// different signature (naming the settings that differ) and sets `done` to the
/// blocks recorded done; returns the journal. Fresh run: removes a stale journal
/// and auto wisdom file. Follow with agreement, then broadcast_ids(done).
std::optional<Journal> start_journal(MPI_Comm comm, const RunSettings& s,
                                     const Signature& signature, std::vector<std::int64_t>& done);

/// Collective: every rank gets rank 0's `ids`.
void broadcast_ids(MPI_Comm comm, std::vector<std::int64_t>& ids);

/// `all` without the ids in `done`, in order.
std::vector<std::int64_t> remaining_blocks(const std::vector<std::int64_t>& all,
                                           const std::vector<std::int64_t>& done);

/// Rank 0, after the final rename: removes the journal and the auto wisdom file.
void remove_resume_files(const RunSettings& s);

/// fdatasync of the partial output after each block (--sync-blocks): one
/// descriptor per rank; fdatasync of any descriptor of a file flushes its data.
class FileSync {
 public:
  explicit FileSync(const std::string& file);
  ~FileSync();
  FileSync(const FileSync&) = delete;
  FileSync& operator=(const FileSync&) = delete;
  /// Throws IoError when the data cannot be made durable.
  void sync();

 private:
  std::string file_;
  int fd_ = -1;
};

}  // namespace h5decon::app
