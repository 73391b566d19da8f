// shapes-count: CLEVR-style scenes of non-overlapping coloured circles, squares and triangles; the test
// split has more objects than train (out of distribution, as R1-V's CLEVR -> SuperCLEVR).
#include <algorithm>
#include <cmath>

#include "dataset/generators.h"
#include "dataset/task_writer.h"

namespace seer::dataset {
namespace {

struct Colour {
  const char* name;
  uint8_t rgb[3];
};
const Colour kColours[] = {{"red", {220, 40, 40}},   {"green", {40, 170, 60}}, {"blue", {40, 80, 220}},
                           {"yellow", {230, 200, 30}}, {"purple", {150, 60, 190}}, {"gray", {128, 128, 128}}};
const char* kShapes[] = {"circle", "square", "triangle"};
constexpr int kSize = 64;

struct Object {
  int shape, colour, radius, cx, cy;
};

bool inside(const Object& o, int x, int y) {
  const int dx = x - o.cx, dy = y - o.cy;
  if (o.shape == 0) return dx * dx + dy * dy <= o.radius * o.radius;
  if (o.shape == 1) return std::abs(dx) <= o.radius && std::abs(dy) <= o.radius;
  // Triangle pointing up: apex at (cx, cy - r), base from (cx - r, cy + r) to (cx + r, cy + r).
  if (dy < -o.radius || dy > o.radius) return false;
  const double half = (dy + o.radius) / 2.0;
  return std::abs(dx) <= half;
}

}  // namespace

void generate_shapes(const GenerateOptions& o) {
  for (const std::string split : {"train", "test"}) {
    const bool test = split == "test";
    const int n = test ? (o.test > 0 ? o.test : 300) : (o.train > 0 ? o.train : 2000);
    const int min_objects = test ? 6 : 1, max_objects = test ? 8 : 5;
    uint64_t state = o.seed * 104729ULL + (test ? 2 : 1);
    SplitWriter w(o.out_dir, "shapes-count", split);
    for (int i = 0; i < n; ++i) {
      const int want = min_objects + random_below(state, max_objects - min_objects + 1);
      std::vector<Object> objects;
      for (int attempt = 0; attempt < 500 && static_cast<int>(objects.size()) < want; ++attempt) {
        Object ob{random_below(state, 3), random_below(state, 6), random_below(state, 2) == 0 ? 5 : 8, 0, 0};
        ob.cx = ob.radius + 1 + random_below(state, kSize - 2 * ob.radius - 2);
        ob.cy = ob.radius + 1 + random_below(state, kSize - 2 * ob.radius - 2);
        bool clear = true;
        for (const auto& other : objects) {
          const int gap = ob.radius + other.radius + 2;  // bounding boxes apart: never overlapping
          clear = clear && (std::abs(ob.cx - other.cx) > gap || std::abs(ob.cy - other.cy) > gap);
        }
        if (clear) objects.push_back(ob);
      }
      Image img(kSize, kSize, 3, 245);
      for (const auto& ob : objects) {
        for (int y = ob.cy - ob.radius; y <= ob.cy + ob.radius; ++y) {
          for (int x = ob.cx - ob.radius; x <= ob.cx + ob.radius; ++x) {
            if (inside(ob, x, y)) std::copy(kColours[ob.colour].rgb, kColours[ob.colour].rgb + 3, img.at(x, y));
          }
        }
      }
      std::string seen;
      for (size_t k = 0; k < objects.size(); ++k) {
        seen += std::string(k == 0 ? "" : k + 1 == objects.size() ? " and " : ", ") + "a " +
                (objects[k].radius > 5 ? "large " : "small ") + kColours[objects[k].colour].name + " " +
                kShapes[objects[k].shape];
      }
      Example e{img, "", "", "numeric", "I see " + seen + ". ", ""};
      if (random_below(state, 2) == 0) {
        e.question = "How many objects are there?";
        e.answer = std::to_string(objects.size());
        e.reasoning += "That is " + e.answer + " objects.";
      } else {
        const int colour = objects[static_cast<size_t>(random_below(state, static_cast<int>(objects.size())))].colour;
        const int count = static_cast<int>(std::count_if(objects.begin(), objects.end(), [&](const Object& ob) { return ob.colour == colour; }));
        e.question = std::string("How many ") + kColours[colour].name + " objects are there?";
        e.answer = std::to_string(count);
        e.reasoning += "Of these, " + e.answer + " " + (count == 1 ? "is " : "are ") + kColours[colour].name + ".";
      }
      w.add(e);
    }
    w.finish();
  }
}

}  // namespace seer::dataset
