// `bbox` answers (contract section 2): IoU of a predicted box, given in the model-input frame, with a
// gold box in original-image pixels.
#pragma once

#include <array>
#include <optional>
#include <string_view>

#include "reward/types.h"

namespace seer::reward {

using Box = std::array<double, 4>;  ///< x1, y1, x2, y2

/// "[x1, y1, x2, y2]" or JSON {"bbox_2d": [x1, y1, x2, y2]}: exactly four finite numbers; nullopt
/// otherwise (point pairs, lists of boxes, 3 or 5 numbers, NaN). Does not check the box's validity.
std::optional<Box> parse_box(std::string_view text);

/// x2 > x1 and y2 > y1, all finite.
bool valid_box(const Box& b);

/// Intersection over union in [0, 1]; 0 for an invalid box. No clipping to the image.
double iou(const Box& a, const Box& b);

/// The prediction mapped into original-image pixels. `frame` says how the prediction is written
/// (pixels of the model input, 0-1000 or 0-1 of it). nullopt when a size it needs is unknown (0).
std::optional<Box> to_original_frame(const Box& predicted, BoxFrame frame, const ImageSize& model_input,
                                     const ImageSize& original);

}  // namespace seer::reward
