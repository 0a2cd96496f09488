// Resumable runs: output state, signature, journal start and clean-up.
#include "run_resume.hpp"

#include "run_option_table.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <set>

#include "h5decon/error.hpp"
#include "h5decon/io/file_identity.hpp"
#include "h5decon/io/output_path.hpp"
#include "output_lock.hpp"

namespace h5decon::app {
namespace {

namespace fs = std::filesystem;

bool exists(const std::string& path) {
  std::error_code ec;
  return fs::exists(path, ec);
}

std::string canonical_ref(const io::DatasetRef& ref) {
  std::error_code ec;
  const fs::path p = fs::weakly_canonical(ref.file, ec);
  return (ec ? ref.file : p.string()) + ":" + ref.path;
}

// FNV-1a over the prepared PSFs' shapes and bits: a changed PSF file is noticed.
std::string psf_hash(const std::vector<Psf>& psfs) {
  std::uint64_t h = 1469598103934665603ull;
  auto add = [&h](const void* data, std::size_t size) {
    const auto* p = static_cast<const unsigned char*>(data);
    for (std::size_t i = 0; i < size; ++i) h = (h ^ p[i]) * 1099511628211ull;
  };
  for (const Psf& psf : psfs) {
    add(&psf.kernel.shape, sizeof psf.kernel.shape);
    add(psf.kernel.data.data(), psf.kernel.data.size() * sizeof(float));
  }
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(h));
  return text;
}

std::string csv(const Shape3& s) { return detail::concat(s.z, ",", s.y, ",", s.x); }

std::string value_of(const RunSettings& s, const std::string& option) {
  const auto it = s.resolved.find(option);
  return it == s.resolved.end() ? "" : it->second;
}

// Signature keys "opt.NAME" are shown as the option, "--NAME".
std::string join(const std::vector<std::string>& parts, const std::string& separator) {
  std::string out;
  for (const std::string& p : parts)
    out += (out.empty() ? "" : separator) + (p.starts_with("opt.") ? "--" + p.substr(4) : p);
  return out;
}

// Rank 0 of a resumed run: the journal, checked against this run's signature.
Journal open_journal(const RunSettings& s, const Signature& signature) {
  const std::string partial = io::partial_file(s.output.file);
  Journal journal = Journal::open(journal_path(s.output.file));
  const auto differences = signature_differences(journal.signature(), signature, false);
  bool input_changed = false;
  for (const std::string& d : differences) input_changed |= d.starts_with("input-");
  H5DECON_REQUIRE(!input_changed, InputError, "--resume: the input changed since the interrupted "
                  "run wrote '", partial, "' (", join(differences, "; "),
                  "); its finished blocks belong to the old contents. Start over with --overwrite "
                  "(without --resume)");
  H5DECON_REQUIRE(differences.empty(), InputError, "--resume: '", partial,
                  "' was made with other settings: ", join(differences, "; "),
                  ". Resume with the interrupted run's settings, or start over with --overwrite "
                  "(without --resume)");
  for (const std::string& note : signature_differences(journal.signature(), signature, true))
    std::cerr << "h5decon: warning: --resume: " << note
              << "; FFT plans may differ and the resumed blocks' last bits with them" << std::endl;
  return journal;
}

}  // namespace

std::string auto_wisdom_path(const std::string& output_file) {
  return output_file + ".partial.wisdom";
}

std::string default_wisdom_cache() {
  if (const char* chosen = std::getenv("H5DECON_WISDOM")) return chosen;  // "" turns it off
  if (const char* cache = std::getenv("XDG_CACHE_HOME"); cache && *cache)
    return std::string(cache) + "/h5decon/fftwf-wisdom";
  if (const char* home = std::getenv("HOME"); home && *home)
    return std::string(home) + "/.cache/h5decon/fftwf-wisdom";
  return {};
}

void use_auto_wisdom(RunSettings& s) {
  if (!s.backend_options.wisdom_file.empty() || s.backend_options.planner == FftPlanner::estimate)
    return;
  const std::string cache = default_wisdom_cache();
  s.backend_options.wisdom_is_cache = !cache.empty();
  s.backend_options.wisdom_file = cache.empty() ? auto_wisdom_path(s.output.file) : cache;
}

void check_output_state(const RunSettings& s) {
  const std::string& out = s.output.file;
  const io::ProtectedFiles inputs{{s.input.file, "the input file"},
                                  {io::input_data_file(s.input), "the input's data file"},
                                  {s.psf.file, "the PSF file"}};
  // The output and every file beside it: a device, a FIFO or a directory is never replaced.
  io::check_output_path(out, true, inputs);
  io::check_output_path(io::partial_file(out), true, inputs, "partial output");
  io::check_output_path(journal_path(out), true, inputs, "journal");
  const std::string partial = io::partial_file(out), journal = journal_path(out);
  const bool resumable = exists(partial) && exists(journal);
  if (s.resume) {
    H5DECON_REQUIRE(!exists(out), InputError, "--resume: output file '", out,
                    "' exists and is complete; nothing to resume");
    H5DECON_REQUIRE(resumable, InputError, "--resume: nothing to resume: no partial output '",
                    partial, "' with its journal '", journal, "' from an interrupted run",
                    exists(partial) ? " (the partial output has no journal: it was interrupted "
                                      "before its first block; start over with --overwrite)"
                                    : "");
    return;
  }
  H5DECON_REQUIRE(s.overwrite || !exists(out), InputError, "output file '", out,
                  "' exists; pass --overwrite to replace it");
  H5DECON_REQUIRE(s.overwrite || !resumable, InputError,
                  "a partial output from an interrupted run exists ('", partial, "', journal '",
                  journal, "'); pass --resume to finish it or --overwrite to start over");
}

Signature run_signature(const RunSettings& s, const std::string& backend,
                        const io::InputDataset& input, const std::vector<Psf>& psfs,
                        const DecompositionPlan& plan, const Shard& shard,
                        const io::FileIdentity& input_identity) {
  const auto& wisdom = s.backend_options.wisdom_file;
  Signature out = {
      {"input", canonical_ref(input.ref())},
      {"input-shape", input.shape().str()},
      {"input-dtype", io::to_string(input.dtype())},
  };
  for (auto& entry : input_identity.entries("input")) out.push_back(std::move(entry));
  const Signature rest = {
      {"psf", canonical_ref(s.psf)},
      {"psf-hash", psf_hash(psfs)},
      {"output-dataset", s.output.path},
      {"iterations", std::to_string(s.rl.iterations)},
      {"backend", backend},
      {"wisdom", wisdom == auto_wisdom_path(s.output.file) ? "auto" : wisdom},
      {"halo", csv(plan.halo)},
      {"block", csv(plan.interior)},
      {"block-grid", csv(plan.grid)},
      {"chunk", csv(plan.chunk)},
      {"shards", shard.enabled ? std::to_string(shard.count) : "off"},
      {"shard", shard.enabled ? std::to_string(shard.index) : "off"},
      {"note.threads", value_of(s, "threads")},
  };
  out.insert(out.end(), rest.begin(), rest.end());
  // Every option the table says can change the result, as resolved.
  for (auto& entry : result_option_signature(s.resolved)) out.push_back(std::move(entry));
  return out;
}

io::FileIdentity input_identity(const RunSettings& s) {
  return io::file_identity(io::input_data_file(s.input));
}

void check_input_unchanged(const RunSettings& s, const io::FileIdentity& at_start) {
  const io::FileIdentity now = input_identity(s);
  const std::string changed = now.differences(at_start);
  H5DECON_REQUIRE(changed.empty(), InputError, "input '", s.input.str(),
                  "' changed while this run read it (", changed, "): the result would mix "
                  "two inputs and is not presented; '", io::partial_file(s.output.file),
                  "' is left unfinished and cannot be resumed. Start over with --overwrite");
}

std::string shard_signature(const Signature& signature) {
  std::string out;
  for (const auto& [key, value] : signature)
    if (key != "shard" && key != "output-dataset" && !key.starts_with("note."))
      out += key + "=" + value + "\n";
  return out;
}

std::optional<Journal> start_journal(MPI_Comm comm, const RunSettings& s,
                                     const Signature& signature, std::vector<std::int64_t>& done) {
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  std::optional<Journal> journal;
  done.clear();
  if (rank == 0 && s.resume) {
    journal.emplace(open_journal(s, signature));
    done = journal->done();
  } else if (rank == 0) {
    std::error_code ec;  // stale files of an earlier run that is being replaced
    fs::remove(journal_path(s.output.file), ec);
    fs::remove(auto_wisdom_path(s.output.file), ec);
  }
  return journal;
}

void broadcast_ids(MPI_Comm comm, std::vector<std::int64_t>& ids) {
  long long n = static_cast<long long>(ids.size());
  MPI_Bcast(&n, 1, MPI_LONG_LONG, 0, comm);
  ids.resize(static_cast<std::size_t>(n));
  if (n > 0) MPI_Bcast(ids.data(), static_cast<int>(n), MPI_INT64_T, 0, comm);
}

std::vector<std::int64_t> remaining_blocks(const std::vector<std::int64_t>& all,
                                           const std::vector<std::int64_t>& done) {
  const std::set<std::int64_t> skip(done.begin(), done.end());
  std::vector<std::int64_t> out;
  for (std::int64_t id : all)
    if (!skip.count(id)) out.push_back(id);
  return out;
}

void remove_resume_files(const RunSettings& s) {
  std::error_code ec;
  fs::remove(journal_path(s.output.file), ec);
  if (s.backend_options.wisdom_file == auto_wisdom_path(s.output.file))
    fs::remove(auto_wisdom_path(s.output.file), ec);
}

FileSync::FileSync(const std::string& file) : file_(file) {
  fd_ = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  H5DECON_REQUIRE(fd_ >= 0, IoError, "--sync-blocks: cannot open '", file, "': ",
                  std::strerror(errno));
}

FileSync::~FileSync() {
  if (fd_ >= 0) ::close(fd_);
}

void FileSync::sync() {
  H5DECON_REQUIRE(::fdatasync(fd_) == 0, IoError, "--sync-blocks: fdatasync of '", file_,
                  "' failed: ", std::strerror(errno));
}

}  // namespace h5decon::app
