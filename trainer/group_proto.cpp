#include "trainer/group_proto.h"

#include <algorithm>

#include "core/check.h"

namespace seer::trainer {

Group group_from_proto(const coordinator::v1::Group& g) {
  SEER_CHECK(!g.group_id().empty(), "group without a group_id");
  SEER_CHECK(g.prompt_ids_size() > 0, "group {}: no prompt ids", g.group_id());
  SEER_CHECK(g.trajectories_size() > 0, "group {}: no trajectories", g.group_id());
  Group out;
  out.prompt_id = g.group_id();
  out.prompt.assign(g.prompt_ids().begin(), g.prompt_ids().end());
  out.images.assign(g.images().begin(), g.images().end());
  out.rollout_threads = g.rollout_threads();
  out.generate_seconds = g.generate_seconds();
  for (const auto& t : g.trajectories()) {
    SEER_CHECK(t.response_ids_size() > 0, "group {} sample {}: no response tokens", g.group_id(), t.sample_index());
    SEER_CHECK(t.logprobs_size() == 0 || t.logprobs_size() == t.response_ids_size(),
               "group {} sample {}: {} log-probs for {} tokens", g.group_id(), t.sample_index(), t.logprobs_size(),
               t.response_ids_size());
    Completion c;
    c.tokens.assign(t.response_ids().begin(), t.response_ids().end());
    c.rollout_logprobs.assign(t.logprobs().begin(), t.logprobs().end());
    if (t.scored()) c.reward = t.reward();
    c.weight_version = g.weight_version();
    c.truncated = t.truncated();
    for (const auto& comp : t.components()) c.components[comp.name()] = comp.value();
    c.status = t.status();
    c.answer = t.answer();
    out.completions.push_back(std::move(c));
  }
  return out;
}

coordinator::v1::Group group_to_proto(const Group& g, int64_t weight_version) {
  coordinator::v1::Group out;
  out.set_group_id(g.prompt_id);
  out.set_weight_version(weight_version);
  for (int32_t id : g.prompt) out.add_prompt_ids(id);
  for (const std::string& image : g.images) out.add_images(image);
  out.set_rollout_threads(g.rollout_threads);
  out.set_generate_seconds(g.generate_seconds);
  uint32_t k = 0;
  for (const auto& c : g.completions) {
    auto* t = out.add_trajectories();
    t->set_sample_index(k++);
    for (int32_t id : c.tokens) t->add_response_ids(id);
    for (float lp : c.rollout_logprobs) t->add_logprobs(lp);
    t->set_truncated(c.truncated);
    t->set_scored(c.reward.has_value());
    t->set_reward(c.reward.value_or(0.0));
    for (const auto& [name, value] : c.components) {
      auto* comp = t->add_components();
      comp->set_name(name);
      comp->set_value(value);
    }
    t->set_status(c.status);
    t->set_answer(c.answer);
  }
  return out;
}

std::string serialize_step_batch(const std::vector<Group>& groups) {
  coordinator::v1::StepBatch batch;
  for (const auto& g : groups) {
    int64_t version = 0;
    if (!g.completions.empty()) version = g.completions.front().weight_version;
    *batch.add_groups() = group_to_proto(g, version);
  }
  return batch.SerializeAsString();
}

std::vector<Group> parse_step_batch(const std::string& bytes) {
  coordinator::v1::StepBatch batch;
  SEER_CHECK(batch.ParseFromString(bytes), "step batch: {} bytes that do not parse", bytes.size());
  std::vector<Group> out;
  out.reserve(static_cast<size_t>(batch.groups_size()));
  for (const auto& g : batch.groups()) out.push_back(group_from_proto(g));
  return out;
}

}  // namespace seer::trainer
