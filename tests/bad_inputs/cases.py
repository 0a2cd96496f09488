"""The bad-input catalogue: one entry per case, the single source of the ctest
cases (CMakeLists.txt lists the names) and of the table in README.md
(`run_case.py --markdown` prints it).

Each case runs `h5decon run` on 1 and 3 ranks. `refuse` cases must end with the
message on rank 0, the exit code on every rank and no output file; `works` cases
must exit 0 on every rank and pass their check (see run_case.py). Every input
file's checksum is compared before and after either way.
"""

# Common arguments; {out} is the case's output path.
RUN = ["run", "--iterations", "3", "--fft-planner", "estimate", "--threads", "1",
       "--halo", "2", "--output", "{out}"]


def refuse(code, regex):
    return {"kind": "refuse", "code": code, "regex": regex}


def works(check, regex=None, reference=None, once=False):
    """Exit 0 on every rank; rank 0 prints /regex/ (with `once`: exactly one line of
    all ranks' output matches it); the output passes `check`."""
    return {"kind": "works", "check": check, "regex": regex, "reference": reference,
            "once": once}


def case(name, args, expect, decision, ranks=(1, 3), env=None, output_may_exist=False):
    return {"name": name, "args": args, "expect": expect, "decision": decision,
            "ranks": ranks, "env": env or {}, "output_may_exist": output_may_exist}


def data(file, psf="psf.h5"):
    return ["--input", file, "--psf", psf]


CASES = [
    # --- the file and the dataset -------------------------------------------------------
    case("missing_file", data("nope.h5"), refuse(2, r"input 'nope\.h5:/data': file not found"),
         "refuse"),
    case("missing_dataset", data("u16.h5:/missing"), refuse(2, r"no dataset '/missing'"),
         "refuse"),
    case("group_not_dataset", data("group.h5"), refuse(2, r"'/data' is a group, not a dataset"),
         "refuse"),
    case("not_hdf5", data("not_hdf5.h5"), refuse(2, r"not_hdf5\.h5.*not an HDF5 file"), "refuse"),
    case("missing_psf", data("u16.h5", "nope.h5"), refuse(2, r"PSF 'nope\.h5:/psf': file not found"),
         "refuse"),
    # --- shape -----------------------------------------------------------------------------
    case("rank3_without_axes", data("rank3.h5"), refuse(2, r"rank 3 but expected 5.*--axes"),
         "refuse: rank 3/4 need --axes"),
    case("rank3_with_axes", data("rank3.h5") + ["--axes", "zyx"], works("finite"),
         "works (--axes zyx)"),
    case("rank3_wrong_axes", data("rank3.h5") + ["--axes", "czyx"],
         refuse(2, r"rank 3 but --axes 'czyx' names 4 axes"), "refuse"),
    case("axis_size_zero", data("axis0.h5"), refuse(2, r"axis t has size 0"), "refuse"),
    case("axis_smaller_than_psf", data("thin.h5"),
         works("finite", regex=r"larger than the volume"),
         "works: the boundary extension holds the light beyond the volume (said in the log)"),
    case("shape_absurd", data("huge.h5"),
         refuse(2, r"huge\.h5.*shape 1x1x4294967295x1024x1024 is implausibly large"),
         "refuse before planning (a damaged header's z = 4.29e9)"),
    # --- element types -----------------------------------------------------------------------
    case("dtype_uint16", data("u16.h5"), works("equal", reference="f32.h5"),
         "works (native)"),
    case("dtype_float64", data("f64.h5"), works("equal", reference="f32.h5"),
         "convert to float32 (HDF5 conversion on read)"),
    case("dtype_int16", data("i16.h5"), works("equal", reference="f32.h5"),
         "convert to float32 (exact)"),
    case("dtype_big_endian_uint16", data("be_u16.h5"), works("equal", reference="f32.h5"),
         "convert (byte order swapped by HDF5)"),
    case("dtype_big_endian_float32", data("be_f32.h5"), works("equal", reference="f32.h5"),
         "convert (byte order swapped by HDF5)"),
    case("dtype_int32", data("i32.h5"), refuse(2, r"unsupported element type int32"),
         "refuse: values above 2^24 are not exact in float32"),
    case("dtype_compound", data("compound.h5"), refuse(2, r"unsupported element type compound"),
         "refuse: name the field with a plain dataset"),
    # --- values ------------------------------------------------------------------------------
    case("data_nan", data("data_nan.h5"),
         refuse(2, r"volume \(c=0, t=1\) contains NaN or Inf \(nan at z=3, y=4, x=5\)"),
         "refuse, naming the volume and voxel"),
    case("data_inf", data("data_inf.h5"),
         refuse(2, r"volume \(c=0, t=1\) contains NaN or Inf \(inf at z=3, y=4, x=5\)"),
         "refuse, naming the volume and voxel"),
    case("data_negative", data("data_negative.h5"),
         works("equal", regex=r"warning: .*negative values.*set to 0",
               reference="data_negative_clamped.h5", once=True),
         "clamp to 0 with one warning; result = run on the clamped data"),
    case("data_nan_exact_mode", data("data_nan.h5") + ["--mode", "exact"],
         refuse(2, r"volume \(c=0, t=1\) contains NaN or Inf \(nan at z=3, y=4, x=5\)"),
         "refuse, also when every rank reads a slab (--mode exact)"),
    case("data_negative_exact_mode", data("data_negative.h5") + ["--mode", "exact"],
         works("equal", regex=r"warning: .*negative values.*set to 0",
               reference="data_negative_clamped.h5", once=True),
         "clamp to 0 with one warning from all ranks together (--mode exact)"),
    case("data_zero_block", data("zero_block.h5") + ["--block", "8,24,24"], works("zero_block"),
         "works: an all-zero block gives zeros, never NaN"),
    # --- the PSF -------------------------------------------------------------------------------
    case("psf_nan", data("u16.h5", "psf_nan.h5"), refuse(2, r"psf_nan\.h5.*non-finite"), "refuse"),
    case("psf_inf", data("u16.h5", "psf_inf.h5"), refuse(2, r"psf_inf\.h5.*non-finite"), "refuse"),
    case("psf_zero_sum", data("u16.h5", "psf_zero_sum.h5"), refuse(2, r"sum is not positive"),
         "refuse"),
    case("psf_negative_sum", data("u16.h5", "psf_negative_sum.h5"),
         refuse(2, r"sum is not positive"), "refuse"),
    case("psf_negative_values", data("u16.h5", "psf_negative_values.h5"),
         works("finite", regex=r"1 negative values set to 0"),
         "clamp negative voxels to 0 (logged), positive sum"),
    case("psf_off_centre", data("u16.h5", "psf_off_centre.h5"),
         works("finite", regex=r"warning: PSF .*centre of mass .* is off the centre voxel"),
         "works with a warning: the result is shifted"),
    case("psf_even_size", data("u16.h5", "psf_even.h5"), works("finite"),
         "works (centre voxel n//2)"),
    case("psf_larger_than_volume", data("u16.h5", "psf_big.h5"),
         works("finite", regex=r"cropped to 31x5x5 .*keeping [0-9.]+% of its flux"),
         "works: longer than 2n - 1, cropped to it, the flux kept said in the log"),
    case("psf_big_endian_float64", data("u16.h5", "psf_be_f64.h5"),
         works("equal", reference="f32.h5"), "works: any real type and byte order"),
    case("psf_int16", data("u16.h5", "psf_i16.h5"), works("finite"),
         "works: integer PSFs are read as float32 and normalised"),
    case("psf_tiff_rgb", data("u16.h5", "psf_rgb.tif"),
         refuse(2, r"PSF 'psf_rgb\.tif': page 1 has 3 samples per pixel \(RGB\)"),
         "refuse: a PSF is greyscale"),
    case("psf_tiff_not_tiff", data("u16.h5", "psf_garbage.tif"),
         refuse(2, r"PSF 'psf_garbage\.tif': not a TIFF file"), "refuse"),
    # --- voxel size: the data's element_size_um against the PSF's (attribute or ImageJ) ---
    case("psf_voxel_size_differs", data("voxel.h5", "psf_voxel_other.h5"),
         refuse(2, r"voxel size differs from the data's on axis z: input 'voxel\.h5:/data' has "
                   r"voxels of \(z,y,x\) 0\.4,0\.1,0\.1 um but PSF 'psf_voxel_other\.h5:/psf' "
                   r"was sampled at 0\.2,0\.1,0\.1 um; regenerate.*--ignore-voxel-size"),
         "refuse before writing: the PSF would blur at the wrong scale"),
    case("psf_voxel_size_differs_exact_mode",
         data("voxel.h5", "psf_voxel_other.h5") + ["--mode", "exact"],
         refuse(2, r"voxel size differs from the data's on axis z"), "refuse (--mode exact)"),
    case("psf_voxel_size_differs_tiff", data("voxel.h5", "psf_voxel_other.tif"),
         refuse(2, r"voxel size differs .* PSF 'psf_voxel_other\.tif' was sampled at "
                   r"0\.2,0\.1,0\.1 um"),
         "refuse: ImageJ's calibration of a TIFF PSF counts"),
    case("psf_voxel_size_ignored",
         data("voxel.h5", "psf_voxel_other.h5") + ["--ignore-voxel-size"],
         works("equal", regex=r"warning: the PSF's voxel size differs", reference="f32.h5"),
         "works with a warning when --ignore-voxel-size"),
    # --- ranks and blocks ------------------------------------------------------------------------
    case("more_ranks_than_blocks", data("u16.h5") + ["--block", "16,24,24"],
         works("equal", reference="f32.h5"),
         "works: 2 blocks on 3 ranks, the idle rank joins every collective call"),
    # --- options -------------------------------------------------------------------------------
    case("resume_with_overwrite", data("u16.h5") + ["--resume", "--overwrite"],
         refuse(1, r"--resume and --overwrite"), "refuse: they contradict each other"),
    case("resume_with_shard_nothing_to_resume", data("u16.h5") + ["--resume", "--shard", "0/2"],
         refuse(2, r"nothing to resume"), "allowed combination (a shard resumes); nothing here"),
    case("halo_negative", data("u16.h5") + ["--halo", "-1"], refuse(1, r"--halo: '-1' is not"),
         "refuse"),
    case("block_zero", data("u16.h5") + ["--block", "0,8,8"], refuse(1, r"--block: '0,8,8' is not"),
         "refuse"),
    case("iterations_negative", data("u16.h5") + ["--iterations", "-2"],
         refuse(1, r"--iterations must be >= 1, got -2"), "refuse"),
    case("memory_budget_inf", data("u16.h5") + ["--memory-budget", "inf"],
         refuse(1, r"--memory-budget: 'inf' is not auto or a number"), "refuse (no overflow)"),
    case("eps_meaningless", data("u16.h5") + ["--eps", "1e30"],
         refuse(1, r"--eps 1e\+30 would replace the data term"),
         "refuse: a guard above 1 replaces the data term (all-zero result)"),
    case("background_above_type_range", data("u16.h5") + ["--background", "1e9"],
         refuse(2, r"--background 1e\+09 is at least the largest uint16 value"),
         "refuse: every voxel below the background (all-zero result)"),
    case("config_with_bom", data("u16.h5") + ["--config", "bom.ini"],
         works("equal", reference="f32.h5"), "works: a UTF-8 byte-order mark is skipped"),
    case("config_nested", data("u16.h5") + ["--config", "nested.ini"],
         refuse(1, r"config file 'nested\.ini' sets 'config'; a config file cannot name another"),
         "refuse"),
    case("config_directory", data("u16.h5") + ["--config", "configdir"],
         refuse(1, r"config file 'configdir' is a directory"), "refuse"),
    case("shard_out_of_range", data("u16.h5") + ["--shard", "2/2"],
         refuse(1, r"shard 2 of 2 is out of range"), "refuse"),
    case("shard_malformed", data("u16.h5") + ["--shard", "-1/2"], refuse(1, r"shard -1 of 2 is out of range"),
         "refuse"),
    # --- damaged files ---------------------------------------------------------------------------
    case("truncated", data("truncated.h5"), refuse(2, r"truncated\.h5.*truncated file: eof = 23347.*damaged or incomplete"),
         "refuse on rank 0 before the collective open"),
    case("truncated_to_superblock", data("truncated_header.h5"),
         refuse(2, r"truncated_header\.h5.*truncated file: eof = 700"), "refuse"),
    case("flipped_object_header", data("flipped_header.h5"),
         refuse(2, r"flipped_header\.h5.*'/data' cannot be opened.*damaged"), "refuse"),
    case("flipped_checksummed_chunk", data("flipped_checksummed.h5"),
         refuse(2, r"flipped_checksummed\.h5.*damaged or unreadable.*checksum"),
         "refuse (Fletcher-32); an unchecked chunk cannot be detected"),
    case("filter_lzf_unavailable", data("filter_lzf.h5"),
         refuse(2, r"filter 32000 \('lzf'\), which is not available"), "refuse, naming the filter"),
    case("filter_unknown_id", data("filter_unknown.h5"),
         refuse(2, r"filter 32123, which is not available"), "refuse, naming the filter id"),
    # --- the input is sacred ---------------------------------------------------------------------
    case("output_is_input", data("u16.h5") + ["--output", "u16.h5"],
         refuse(2, r"is the input file"), "refuse", output_may_exist=True),
    case("output_is_input_hard_link", data("hardlinked_src.h5") + ["--output", "hardlink.h5"],
         refuse(2, r"is the input file"), "refuse (same inode)", output_may_exist=True),
    case("output_is_input_symlink", data("u16.h5") + ["--output", "symlink.h5"],
         refuse(2, r"is the input file"), "refuse (same file)", output_may_exist=True),
    case("output_is_psf", data("u16.h5") + ["--output", "psf.h5"], refuse(2, r"is the PSF file"),
         "refuse", output_may_exist=True),
    case("output_is_psf_exact_mode", data("u16.h5") + ["--output", "psf.h5", "--overwrite",
                                                       "--mode", "exact"],
         refuse(2, r"is the PSF file"), "refuse: both modes share the output checks",
         output_may_exist=True),
    case("output_char_device", data("u16.h5") + ["--output", "/dev/null", "--overwrite"],
         refuse(2, r"output '/dev/null' is a character device"),
         "refuse even with --overwrite: only a regular file or a new path", output_may_exist=True),
    case("output_fifo", data("u16.h5") + ["--output", "fifo.h5", "--overwrite"],
         refuse(2, r"output 'fifo\.h5' is a FIFO"), "refuse even with --overwrite",
         output_may_exist=True),
    case("output_directory", data("u16.h5") + ["--output", "outdir", "--overwrite"],
         refuse(2, r"output 'outdir' is a directory"), "refuse even with --overwrite",
         output_may_exist=True),
    case("output_directory_exact_mode", data("u16.h5") + ["--output", "outdir", "--overwrite",
                                                          "--mode", "exact"],
         refuse(2, r"output 'outdir' is a directory"), "refuse (--mode exact)",
         output_may_exist=True),
    case("output_path_without_slash", data("u16.h5") + ["--output", "out.h5:data"],
         refuse(1, r"a dataset path starts with '/'; did you mean 'out\.h5:/data'"),
         "refuse: no file named 'out.h5:data'"),
    case("output_path_root", data("u16.h5") + ["--output", "out.h5:/"],
         refuse(1, r"names the root group '/', not a dataset"), "refuse"),
    # --- launch mistakes -------------------------------------------------------------------------
    case("singleton_under_slurm", data("u16.h5"),
         refuse(1, r"world size 1 but SLURM_NTASKS=3.*--allow-singleton"),
         "refuse on 1 rank (srun without MPI starts singletons); 3 ranks: see next", ranks=(1,),
         env={"SLURM_NTASKS": "3"}),
    case("slurm_ntasks_matches", data("u16.h5"), works("equal", reference="f32.h5"),
         "works: world size 3 = SLURM_NTASKS", ranks=(3,), env={"SLURM_NTASKS": "3"}),
    case("singleton_under_slurm_exact_mode", data("u16.h5") + ["--mode", "exact"],
         refuse(1, r"world size 1 but SLURM_NTASKS=3.*--allow-singleton"),
         "refuse (--mode exact has the same launch check)", ranks=(1,),
         env={"SLURM_NTASKS": "3"}),
    case("slurm_array_over_files", data("u16.h5"),
         works("equal", regex=r"SLURM array task 1 with --shard off: this run computes every volume",
               reference="f32.h5"),
         "works: an array task without --shard computes its whole input (an array over files)",
         env={"SLURM_ARRAY_TASK_ID": "1", "SLURM_ARRAY_TASK_MIN": "0",
              "SLURM_ARRAY_TASK_MAX": "3"}),
    case("singleton_allowed", data("u16.h5") + ["--allow-singleton"],
         works("equal", regex=r"warning: .*SLURM_NTASKS=3", reference="f32.h5"),
         "works with a warning when --allow-singleton", ranks=(1,), env={"SLURM_NTASKS": "3"}),
]


def by_name(name):
    for c in CASES:
        if c["name"] == name:
            return c
    raise KeyError(name)
