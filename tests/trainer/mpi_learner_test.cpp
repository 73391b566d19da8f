// Under `mpirun -np 2`: a GRPO step (2 epochs x 2 mini-batches, KL to a reference, AdamW) and an SFT step
// with each rank on half the batch leave the same parameters as one rank on the whole batch (computed on
// every rank with a single-rank communicator), rel 1e-5 per tensor; then a step where rank 1 has no
// groups. float64 models (see grpo_update_test.cpp for why).
#include <cstdio>

#include <fmt/format.h>

#include <torch/torch.h>

#include "model/presets.h"
#include "model/vlm.h"
#include "trainer/communicator.h"
#include "trainer/grpo_update.h"
#include "trainer/optimizer.h"
#include "trainer/sft_update.h"

using namespace seer;
using namespace seer::trainer;

namespace {

const model::VlmConfig& tiny() {
  static const model::VlmConfig c = model::preset_config("tiny");
  return c;
}

std::unique_ptr<model::Vlm> make_model() {
  model::LoadOptions o;
  o.dtype = at::kDouble;
  return model::Vlm::create(tiny(), 21, o);
}

std::map<std::string, at::Tensor> trainable(model::Vlm& m) {
  std::map<std::string, at::Tensor> out;
  for (const auto& [name, p] : m.named_parameters()) {
    if (p.requires_grad()) out[name] = p;
  }
  return out;
}

std::vector<Group> make_groups(int64_t n) {
  std::vector<Group> out;
  at::Generator gen = at::detail::createCPUGenerator(5);
  for (int64_t g = 0; g < n; ++g) {
    Group grp;
    grp.prompt_id = fmt::format("p{}", g);  // not "p" + to_string: GCC 12 -Wstringop-overflow false positive in C++20
    grp.prompt = {257, static_cast<int32_t>(90 + g), 10};
    for (int64_t i = 0; i < tiny().image_feature_count(); ++i) grp.prompt.push_back(static_cast<int32_t>(tiny().image_token_index));
    grp.prompt.push_back(33);
    grp.pixel_values = {at::randn({1, 3, 32, 32}, gen).to(at::kDouble)};
    for (int64_t k = 0; k < 4; ++k) {
      Completion c;
      for (int64_t t = 0; t < 3 + (g + k) % 3; ++t) c.tokens.push_back(static_cast<int32_t>(50 + (g * 5 + k * 11 + t * 3) % 180));
      c.reward = static_cast<double>((g * 3 + k) % 4) / 3.0;
      grp.completions.push_back(std::move(c));
    }
    out.push_back(std::move(grp));
  }
  return out;
}

double max_rel(model::Vlm& a, model::Vlm& b) {
  double worst = 0;
  auto pb = b.named_parameters();
  for (const auto& [name, p] : a.named_parameters()) {
    const double n = pb.at(name).norm().item<double>();
    if (n > 0) worst = std::max(worst, (p - pb.at(name)).norm().item<double>() / n);
  }
  return worst;
}

}  // namespace

int main() {
  auto comm = make_mpi_communicator();
  auto single = make_single_communicator();
  const int rank = comm->rank();
  int failures = 0, checks = 0;
  auto check = [&](bool ok, const std::string& what) {
    ++checks;
    if (!ok) {
      std::fprintf(stderr, "[rank %d] FAIL: %s\n", rank, what.c_str());
      ++failures;
    }
  };
  check(comm->world_size() == 2, "world size is 2 (run under mpirun -np 2)");

  PolicyUpdateOptions o;
  o.clip.beta = 0.04;
  o.clip.eps_high = 0.28;
  o.ppo_epochs = 2;
  o.mini_batches = 2;
  o.micro_batch_size = 3;
  o.bucket_bytes = 32 << 10;
  o.pad_id = 256;
  AdamWOptions ao;
  ao.lr = 1e-3;
  ao.weight_decay = 0.01;

  for (const bool empty_rank : {false, true}) {
    auto groups = make_groups(4);
    assign_advantages(groups, {});
    assign_mini_batches(groups, o.mini_batches);
    auto whole = make_model(), whole_ref = make_model(), part = make_model(), part_ref = make_model();
    AdamW opt_whole(trainable(*whole), ao), opt_part(trainable(*part), ao);
    const auto st1 = policy_update(*whole, whole_ref.get(), opt_whole, *single, groups, o);
    std::vector<Group> mine;
    for (size_t i = 0; i < groups.size(); ++i) {
      const bool to_rank0 = empty_rank || i % 2 == 0;
      if ((rank == 0) == to_rank0) mine.push_back(groups[i]);
    }
    const auto st2 = policy_update(*part, part_ref.get(), opt_part, *comm, mine, o);
    const double rel = max_rel(*part, *whole);
    const std::string label = empty_rank ? "GRPO, rank 1 without groups" : "GRPO, half the groups each";
    check(rel < 1e-5, label + ": parameters equal one rank's on the whole batch (max rel " + std::to_string(rel) + ")");
    check(std::abs(st2.loss - st1.loss) <= 1e-6 * std::max(1.0, std::abs(st1.loss)), label + ": same loss");
    check(st2.tokens == st1.tokens, label + ": global token count");
  }

  // SFT: 6 sequences, rank r takes r, r+2, r+4.
  {
    const auto groups = make_groups(6);
    std::vector<Sequence> all;
    std::vector<at::Tensor> pixels;
    for (size_t g = 0; g < groups.size(); ++g) {
      Sequence s;
      s.ids = groups[g].prompt;
      s.ids.insert(s.ids.end(), groups[g].completions[0].tokens.begin(), groups[g].completions[0].tokens.end());
      s.target.assign(groups[g].prompt.size(), 0);
      s.target.resize(s.ids.size(), 1);
      s.images = {static_cast<int64_t>(g)};
      all.push_back(s);
      pixels.push_back(groups[g].pixel_values[0]);
    }
    std::vector<Sequence> mine;
    for (size_t i = static_cast<size_t>(rank); i < all.size(); i += 2) mine.push_back(all[i]);
    auto whole = make_model(), part = make_model();
    AdamW opt_whole(trainable(*whole), ao), opt_part(trainable(*part), ao);
    SftUpdateOptions so;
    so.micro_batch_size = 2;
    so.pad_id = 256;
    const auto s1 = sft_update(*whole, opt_whole, *single, all, pixels, so);
    const auto s2 = sft_update(*part, opt_part, *comm, mine, pixels, so);
    const double rel = max_rel(*part, *whole);
    check(rel < 1e-5, "SFT: parameters equal one rank's (max rel " + std::to_string(rel) + ")");
    check(std::abs(s1.loss - s2.loss) < 1e-9, "SFT: same loss");
  }
  comm->barrier();
  if (rank == 0) std::printf("%d passed, %d failed\n", checks - failures, failures);
  return failures == 0 ? 0 : 1;
}
