#pragma once
// Fixed constants of the RL extensions (rl_options.hpp), shared by every backend
// so that they compute the same thing. Plain C++17: CUDA device code includes it.

namespace h5decon {

/// Biggs-Andrews: the extrapolation factor alpha is clamped to [0, kBiggsMaxAlpha];
/// alpha -> 1 means an unbounded step, so the bound stays below 1 (deconvlucy
/// clamps at 1; cudaDecon too). The prediction is clamped at 0 (deconvlucy).
constexpr double kBiggsMaxAlpha = 0.999;
/// Biggs-Andrews: added to the denominator g_{k-2}.g_{k-2} of alpha (deconvlucy's eps),
/// so that a converged run (g = 0) gives alpha = 0, not 0/0.
constexpr double kBiggsDenominatorGuard = 1e-30;

/// RL-TV: |grad u| is taken as sqrt(|grad u|^2 + kTvEpsilon^2), in the data's units,
/// so that flat regions (grad u = 0) give a finite direction of zero.
constexpr float kTvEpsilon = 1e-3f;
/// RL-TV: the denominator 1 - lambda div(grad u / |grad u|) is clamped at this; it
/// can only fall below 1 - 6 lambda, so the clamp acts only for lambda > 0.15 and
/// caps the TV amplification at 10x per iteration while keeping u >= 0.
constexpr float kTvMinDenominator = 0.1f;

/// Bertero: weights H^T M below this (of a PSF summing to 1: the share of a voxel's
/// light that reaches the observed volume) are raised to it. Such voxels hardly
/// touch the data, and a smaller divisor would amplify the FFT's rounding noise.
constexpr float kBerteroWeightFloor = 1e-3f;
/// The floor of B M with the Wiener-Butterworth back projector: its ringing leaves B M
/// near 0 (or below) just beyond the observed box, where 1 / max(B M, 1e-3) would
/// amplify B r's noise a thousandfold every iteration (measured: the medium phantom
/// diverged by iteration 6). Voxels seen by less than a tenth of B's weight decay instead.
constexpr float kWbWeightFloor = 0.1f;

}  // namespace h5decon
