#include "dataset/generators.h"

#include <filesystem>

#include "core/check.h"
#include "core/did_you_mean.h"

namespace seer::dataset {

void generate_digits(const std::string& task, const GenerateOptions& o);  // digits.cpp
void generate_fashion(const GenerateOptions& o);                          // fashion.cpp
void generate_shapes(const GenerateOptions& o);                           // shapes.cpp

const std::vector<std::string>& task_names() {
  static const std::vector<std::string> names = {"digits-classify", "digits-sum",   "digits-count",
                                                 "digits",          "fashion-classify", "shapes-count"};
  return names;
}

std::string default_source(const std::string& task) {
  if (task.rfind("digits", 0) == 0) {
    // Debian's python3-sklearn, or the copy scripts/install-deps.sh extracts from its .deb.
    const std::string sklearn = "/usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz";
    const std::string extracted = "/usr/local/share/seer/datasets/digits.csv.gz";
    return std::filesystem::exists(sklearn) || !std::filesystem::exists(extracted) ? sklearn : extracted;
  }
  if (task == "fashion-classify") return "/usr/share/datasets/fashion-mnist";
  return "";
}

void generate_task(const std::string& task, const GenerateOptions& options) {
  SEER_CHECK(!options.out_dir.empty(), "data make: --out is required");
  if (task == "digits") {
    for (const char* sub : {"digits-classify", "digits-sum", "digits-count"}) {
      GenerateOptions o = options;
      o.out_dir = (std::filesystem::path(options.out_dir) / sub).string();
      generate_digits(sub, o);
    }
  } else if (task.rfind("digits-", 0) == 0 && (task == "digits-classify" || task == "digits-sum" || task == "digits-count")) {
    generate_digits(task, options);
  } else if (task == "fashion-classify") {
    generate_fashion(options);
  } else if (task == "shapes-count") {
    generate_shapes(options);
  } else {
    const std::string near = closest_match(task, task_names());
    SEER_FAIL("unknown task '{}'{}; tasks: digits-classify, digits-sum, digits-count, digits, fashion-classify, "
              "shapes-count", task, near.empty() ? "" : " (did you mean '" + near + "'?)");
  }
}

}  // namespace seer::dataset
