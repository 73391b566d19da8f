#include "trainer/prompt_ledger.h"

#include <algorithm>

#include <fmt/format.h>

namespace seer::trainer {
namespace {

/// Parses "<epoch>:<position>"; false when malformed.
bool parse_prompt_id(const std::string& id, std::pair<int64_t, int64_t>& out) {
  const size_t colon = id.find(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == id.size()) return false;
  try {
    size_t used = 0;
    out.first = std::stoll(id.substr(0, colon), &used);
    if (used != colon) return false;
    out.second = std::stoll(id.substr(colon + 1), &used);
    return used == id.size() - colon - 1 && out.first >= 0 && out.second >= 0;
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace

std::string prompt_id_of(int64_t epoch, int64_t position) { return fmt::format("{}:{}", epoch, position); }

PromptLedger::PromptLedger(DataOrder order, double lease_seconds, int64_t max_in_flight)
    : order_(std::move(order)), lease_seconds_(lease_seconds), max_in_flight_(max_in_flight) {}

std::vector<LeasedPrompt> PromptLedger::lease(const std::string& worker, int64_t n, double now) {
  std::vector<LeasedPrompt> out;
  // Expired or released first, oldest slot first: the data order is kept as far as possible.
  for (auto& [key, slot] : slots_) {
    if (static_cast<int64_t>(out.size()) >= n) break;
    const bool expired = slot.state == State::kLeased && slot.deadline <= now;
    if (!expired && slot.state != State::kReleased) continue;
    slot.state = State::kLeased;
    slot.worker = worker;
    slot.deadline = now + lease_seconds_;
    ++counts_.reissued;
    ++counts_.leased;
    out.push_back({prompt_id_of(key.first, key.second), slot.row, true});
  }
  while (static_cast<int64_t>(out.size()) < n && in_flight() < max_in_flight_) {
    Slot slot;
    slot.row = order_.next(1).front();  // crosses into the next epoch first when one ended
    slot.epoch = order_.epoch();
    slot.position = order_.cursor() - 1;
    if (skip_.erase({slot.epoch, slot.position}) > 0) {  // trained on before the checkpoint
      done_.insert(prompt_id_of(slot.epoch, slot.position));
      continue;
    }
    slot.worker = worker;
    slot.deadline = now + lease_seconds_;
    out.push_back({prompt_id_of(slot.epoch, slot.position), slot.row, false});
    slots_.emplace(std::make_pair(slot.epoch, slot.position), slot);
    ++counts_.leased;
  }
  return out;
}

Receipt PromptLedger::receive(const std::string& prompt_id) {
  std::pair<int64_t, int64_t> key;
  if (done_.count(prompt_id)) {
    ++counts_.duplicate;
    return Receipt::kDuplicate;
  }
  auto it = parse_prompt_id(prompt_id, key) ? slots_.find(key) : slots_.end();
  if (it == slots_.end()) {
    ++counts_.unknown;
    return Receipt::kUnknown;
  }
  if (it->second.state == State::kReceived) {
    ++counts_.duplicate;
    return Receipt::kDuplicate;
  }
  it->second.state = State::kReceived;
  ++counts_.received;
  return Receipt::kAccepted;
}

void PromptLedger::release(const std::string& prompt_id, const std::string& worker) {
  std::pair<int64_t, int64_t> key;
  if (!parse_prompt_id(prompt_id, key)) return;
  auto it = slots_.find(key);
  if (it == slots_.end()) return;
  if (!worker.empty() && (it->second.state != State::kLeased || it->second.worker != worker)) return;
  it->second.state = State::kReleased;
  it->second.worker.clear();
  ++counts_.released;
}

void PromptLedger::done(const std::string& prompt_id) {
  std::pair<int64_t, int64_t> key;
  if (!parse_prompt_id(prompt_id, key)) return;
  if (slots_.erase(key) > 0) {
    done_.insert(prompt_id);
    ++counts_.done;
  }
}

std::pair<int64_t, int64_t> PromptLedger::resume_position() const {
  if (slots_.empty()) return {order_.epoch(), order_.cursor()};
  return slots_.begin()->first;
}

std::vector<std::string> PromptLedger::done_after_resume_position() const {
  const auto from = resume_position();
  std::vector<std::pair<int64_t, int64_t>> keys;
  for (const auto& id : done_) {
    std::pair<int64_t, int64_t> key;
    if (parse_prompt_id(id, key) && key > from) keys.push_back(key);
  }
  for (const auto& key : skip_) {
    if (key > from) keys.push_back(key);  // skipped slots not reached yet are still done
  }
  std::sort(keys.begin(), keys.end());
  std::vector<std::string> out;
  for (const auto& [epoch, position] : keys) out.push_back(prompt_id_of(epoch, position));
  return out;
}

void PromptLedger::skip(const std::vector<std::string>& prompt_ids) {
  for (const auto& id : prompt_ids) {
    std::pair<int64_t, int64_t> key;
    if (parse_prompt_id(id, key)) skip_.insert(key);
  }
}

int64_t PromptLedger::row_of(const std::string& prompt_id) const {
  std::pair<int64_t, int64_t> key;
  if (!parse_prompt_id(prompt_id, key)) return -1;
  auto it = slots_.find(key);
  return it == slots_.end() ? -1 : it->second.row;
}

std::string PromptLedger::holder(const std::string& prompt_id) const {
  std::pair<int64_t, int64_t> key;
  if (!parse_prompt_id(prompt_id, key)) return "";
  auto it = slots_.find(key);
  return it == slots_.end() || it->second.state != State::kLeased ? "" : it->second.worker;
}

}  // namespace seer::trainer
