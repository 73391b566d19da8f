// `seer init-model --preset tiny|tiny-qwen2vl|small OUT_DIR`: a random-initialised LLaVA-style or Qwen2-VL
// checkpoint in Hugging Face layout with a byte-level tokenizer, so nothing has to be downloaded.
#include <memory>
#include <string>

#include "app/commands.h"
#include "core/log.h"
#include "model/presets.h"

namespace seer::app {

void add_init_model_command(CLI::App& app, Invocation& inv) {
  struct Args {
    std::string preset = "tiny", out;
    uint64_t seed = 1;
    bool overwrite = false;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand("init-model", "Create a small random VLM (HF layout) from a preset");
  cmd->add_option("out", args->out, "output folder")->required();
  cmd->add_option("--preset", args->preset,
                  "tiny (LLaVA, ~0.6 M parameters), tiny-qwen2vl (Qwen2-VL, ~0.7 M) or small (LLaVA, ~35 M)")
      ->check(CLI::IsMember({"tiny", "tiny-qwen2vl", "small"}));
  cmd->add_option("--seed", args->seed, "initialisation seed");
  cmd->add_flag("--overwrite", args->overwrite, "replace a model already in the folder");
  cmd->callback([args, &inv] {
    log::init({"init-model"}, inv.log_level.empty() ? "info" : inv.log_level);
    model::init_model(args->preset, args->out, args->seed, args->overwrite);
    inv.exit_code = 0;
  });
}

}  // namespace seer::app
