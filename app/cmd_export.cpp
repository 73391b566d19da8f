// `seer export --merge MODEL_DIR OUT_DIR`: a LoRA checkpoint (a PEFT adapter folder, e.g.
// runs/NAME/checkpoints/step-N/model) becomes one full Hugging Face checkpoint with every adapter folded into
// its base weight (PEFT's merge_and_unload + save_pretrained), with the tokenizer and processor files, so
// transformers, vLLM or seer load it without PEFT. Written to a temporary folder, then renamed.
#include <filesystem>
#include <memory>
#include <string>

#include <spdlog/spdlog.h>

#include "app/commands.h"
#include "core/atomic_file.h"
#include "core/check.h"
#include "core/log.h"
#include "model/vlm.h"
#include "trainer/checkpoint.h"

namespace seer::app {

void add_export_command(CLI::App& app, Invocation& inv) {
  struct Args {
    std::string model, out;
    bool merge = false, overwrite = false;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand("export", "Write a checkpoint as a full Hugging Face folder (--merge: LoRA folded in)");
  cmd->add_option("model", args->model, "model folder: a checkpoint's model/ (PEFT adapter folder or HF folder)")
      ->required()
      ->check(CLI::ExistingDirectory);
  cmd->add_option("out", args->out, "output folder (must not exist unless --overwrite)")->required();
  cmd->add_flag("--merge", args->merge, "fold LoRA adapters into the base weights (W0 + alpha/r B A)")->required();
  cmd->add_flag("--overwrite", args->overwrite, "replace an existing output folder");
  cmd->callback([args, &inv] {
    namespace fs = std::filesystem;
    log::init({"export"}, inv.log_level.empty() ? "info" : inv.log_level);
    SEER_CHECK(args->overwrite || !fs::exists(args->out), "{} exists (pass --overwrite to replace it)", args->out);
    auto vlm = model::Vlm::load(args->model);
    const fs::path out = fs::path(args->out).lexically_normal();
    const fs::path tmp = out.string() + ".tmp-export";
    fs::remove_all(tmp);
    vlm->save_merged(tmp.string());
    for (const auto& [name, content] : trainer::read_model_side_files(args->model)) {
      write_file_atomic((tmp / name).string(), content);
    }
    fs::remove_all(out);
    fs::rename(tmp, out);
    if (vlm->lora().rank > 0) {
      spdlog::info("{}: {} LoRA adapters (rank {}) merged into {}; written to {}", args->model, vlm->lora_modules().size(),
                   vlm->lora().rank, vlm->base_model_path(), out.string());
    } else {
      spdlog::info("{} has no LoRA adapters: copied as a full checkpoint to {}", args->model, out.string());
    }
    inv.exit_code = 0;
  });
}

}  // namespace seer::app
