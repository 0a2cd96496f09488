#pragma once
// `h5decon quality`: PSNR and SSIM against the ground truth of a `synth` file,
// by iteration and by elapsed time, for plain RL and each result-quality option.

namespace h5decon::tools {

/// Runs the quality benchmark; returns the process exit code.
int quality_command(int argc, char** argv);

}  // namespace h5decon::tools
