// Writes of whole stored chunks without HDF5: the geometry of a box made of
// chunks, and the pwrite calls that put it at the chunks' file offsets.
#pragma once

#include <optional>
#include <span>
#include <vector>

#include "h5decon/io/hdf5_io.hpp"

namespace h5decon::io::detail {

/// The stored chunks (of shape `chunk`, in a volume of shape `volume`) that make
/// up the box [offset, offset + count), in C order of the chunks, without file
/// offsets; std::nullopt unless the box starts on chunk boundaries and ends on
/// them or at the volume's end on every axis (as a block's interior does).
std::optional<std::vector<ChunkPiece>> chunk_pieces(const Shape3& volume, const Shape3& chunk,
                                                    const Shape3& offset, const Shape3& count);

/// Writes every piece of `w` from `data` (the box, C order) to `fd` at the
/// pieces' file offsets, in the chunks' layout: its rows gathered by pwritev
/// straight from `data` (runs of contiguous rows as one segment), rows and planes
/// cut by the volume's end padded with 0, no copy made. Returns 0, or the errno
/// of the failed write (ENOSPC for a write that made no progress).
int pwrite_pieces(int fd, const ChunkWrite& w, std::span<const float> data);

}  // namespace h5decon::io::detail
