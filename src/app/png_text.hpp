#pragma once
// Labels on preview images: a built-in 5x7 bitmap font (upper-case letters,
// digits and a little punctuation; lower case is drawn as upper case).

#include <cstdint>
#include <string>

#include "png_image.hpp"

namespace h5decon::app {

/// Glyph cell in pixels at scale 1: 5 wide plus 1 of spacing, 7 high.
inline constexpr std::int64_t kGlyphAdvance = 6, kGlyphHeight = 7;

/// Draws `text` with its top-left corner at (x, y), each font pixel a `scale` x
/// `scale` square of `value`; clipped at the image's edges. Characters without
/// a glyph are drawn as blanks.
void draw_text(GreyImage& image, std::int64_t x, std::int64_t y, const std::string& text,
               int scale, std::uint8_t value = 255);

/// Width in pixels of `text` drawn at `scale`.
inline std::int64_t text_width(const std::string& text, int scale) {
  return std::int64_t(text.size()) * kGlyphAdvance * scale;
}

}  // namespace h5decon::app
