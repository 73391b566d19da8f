// ../shared/cases/advantages.jsonl and loss.jsonl (or $SEER_CASES_DIR): advantages, k3 KL, aggregation
// and the clipped objective, values and gradients in float64; finiteness and KL ≥ 0 also in float32.
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "trainer/advantages.h"
#include "trainer/policy_loss.h"

namespace seer::trainer {
namespace {

using json = nlohmann::json;

std::string cases_dir() {
  const char* env = std::getenv("SEER_CASES_DIR");
  return env != nullptr && *env != '\0' ? env : SEER_DEFAULT_CASES_DIR;
}

std::vector<json> read_cases(const std::string& file) {
  std::ifstream in(cases_dir() + "/" + file);
  EXPECT_TRUE(in.good()) << cases_dir() << "/" << file;
  std::vector<json> out;
  std::string line;
  while (std::getline(in, line)) out.push_back(json::parse(line));
  return out;
}

/// A number, or one of the JSON strings "NaN", "Infinity", "-Infinity".
double number(const json& v) {
  if (v.is_number()) return v.get<double>();
  const std::string s = v.get<std::string>();
  if (s == "NaN") return std::numeric_limits<double>::quiet_NaN();
  return s == "Infinity" ? INFINITY : -INFINITY;
}

torch::Tensor matrix(const json& rows, torch::Dtype dtype = torch::kDouble) {
  std::vector<double> flat;
  for (const auto& r : rows) {
    for (const auto& v : r) flat.push_back(number(v));
  }
  const int64_t B = static_cast<int64_t>(rows.size());
  return torch::tensor(flat, torch::kDouble).view({B, B == 0 ? 0 : static_cast<int64_t>(flat.size()) / B}).to(dtype);
}

torch::Tensor vec(const json& v, torch::Dtype dtype = torch::kDouble) {
  std::vector<double> flat;
  for (const auto& x : v) flat.push_back(number(x));
  return torch::tensor(flat, torch::kDouble).to(dtype);
}

/// Expected (B, T) with null = unchecked.
void expect_matrix(const torch::Tensor& got, const json& expect, const std::string& what, const std::string& why) {
  for (size_t b = 0; b < expect.size(); ++b) {
    for (size_t t = 0; t < expect[b].size(); ++t) {
      if (expect[b][t].is_null()) continue;
      EXPECT_NEAR(got[static_cast<int64_t>(b)][static_cast<int64_t>(t)].item<double>(), number(expect[b][t]), 1e-6)
          << what << "[" << b << "][" << t << "]: " << why;
    }
  }
}

TEST(TrainerCases, Advantages) {
  int n = 0;
  for (const auto& c : read_cases("advantages.jsonl")) {
    std::vector<std::optional<double>> rewards;
    for (const auto& r : c["rewards"]) {
      if (r.is_null()) rewards.emplace_back();
      else rewards.emplace_back(number(r));
    }
    AdvantageOptions o;
    o.scale_by_std = c["scale"] != "none";
    const auto adv = compute_advantages(c["group_ids"].get<std::vector<std::string>>(), rewards, o);
    const auto expect = c["expect"].get<std::vector<double>>();
    ASSERT_EQ(adv.size(), expect.size()) << c["id"];
    for (size_t i = 0; i < adv.size(); ++i) {
      EXPECT_NEAR(adv[i], expect[i], 1e-6) << c["id"] << " sample " << i << ": " << c["why"];
      if (expect[i] == 0.0) {
        EXPECT_EQ(adv[i], 0.0) << c["id"] << " must be exactly 0";
      }
    }
    ++n;
  }
  EXPECT_GE(n, 1) << "no cases in " << cases_dir();  // the folder decides how many
}

TEST(TrainerCases, Loss) {
  int n = 0;
  for (const auto& c : read_cases("loss.jsonl")) {
    const std::string id = c["id"], why = c["why"], kind = c["kind"];
    const auto& e = c["expect"];
    for (const auto dtype : {torch::kDouble, torch::kFloat}) {
      const bool exact = dtype == torch::kDouble;
      const auto mask = matrix(c["mask"]).to(torch::kBool);
      if (kind == "kl_k3") {
        auto logp = matrix(c["logp"], dtype).requires_grad_(true);
        const auto kl = kl_penalty(logp, matrix(c["logp_ref"], dtype));
        const auto mean = aggregate(kl, mask, Aggregation::kTokenMean);
        mean.backward();
        EXPECT_TRUE(torch::isfinite(logp.grad()).all().item<bool>()) << id;
        EXPECT_TRUE((kl.index({mask}) >= 0).all().item<bool>()) << id << " KL must be >= 0";
        if (exact) {
          expect_matrix(kl, e["kl"], "kl", id + ": " + why);
          EXPECT_NEAR(mean.item<double>(), number(e["kl_mean"]), 1e-6 * std::max(1.0, std::fabs(number(e["kl_mean"])))) << id;
          // grad_logp is d kl_t / d logp_t, i.e. the mean's gradient times the token count.
          const double count = std::max(1.0, mask.sum().item<double>());
          expect_matrix(logp.grad() * count, e["grad_logp"], "grad_logp", id + ": " + why);
        }
      } else if (kind == "aggregate") {
        auto loss_in = matrix(c["token_loss"], dtype).requires_grad_(true);
        const Aggregation mode = parse_aggregation(c["mode"]);
        const double norm_len = c.value("norm_len", 1.0);
        const auto loss = aggregate(loss_in, mask, mode, norm_len);
        loss.backward();
        EXPECT_TRUE(torch::isfinite(loss_in.grad()).all().item<bool>()) << id;
        EXPECT_TRUE(std::isfinite(loss.item<double>())) << id;
        if (exact) {
          EXPECT_NEAR(loss.item<double>(), number(e["loss"]), 1e-6) << id << ": " << why;
          expect_matrix(loss_in.grad(), e["grad_token_loss"], "grad_token_loss", id + ": " + why);
        }
        if (exact && c.contains("rank")) {
          const auto ranks = c["rank"].get<std::vector<int>>();
          const double global = aggregation_denominator(mask, mode);
          const auto& shares = e["rank_share"];
          double total = 0;
          for (size_t r = 0; r < shares.size(); ++r) {
            std::vector<int64_t> rows;
            for (size_t b = 0; b < ranks.size(); ++b) {
              if (ranks[b] == static_cast<int>(r)) rows.push_back(static_cast<int64_t>(b));
            }
            const auto idx = torch::tensor(rows, torch::kLong);
            const double share =
                aggregate(loss_in.detach().index_select(0, idx), mask.index_select(0, idx), mode, norm_len, global).item<double>();
            EXPECT_NEAR(share, number(shares[r]), 1e-6) << id << " rank " << r;
            if (number(shares[r]) == 0.0) {
              EXPECT_EQ(share, 0.0) << id << " rank " << r << " must contribute exactly 0";
            }
            total += share;
          }
          EXPECT_NEAR(total, loss.item<double>(), 1e-9) << id << ": shares sum to the loss";
        }
      } else if (kind == "clip") {
        auto logp = matrix(c["logp"], dtype).requires_grad_(true);
        ClipLossOptions o;
        o.eps_low = c["eps_low"];
        o.eps_high = c["eps_high"];
        o.beta = c["beta"];
        const auto token_loss = clipped_token_loss(logp, matrix(c["logp_old"], dtype), vec(c["advantages"], dtype), mask, o,
                                                   c.contains("logp_ref") ? matrix(c["logp_ref"], dtype) : torch::Tensor());
        const auto loss = aggregate(token_loss, mask, parse_aggregation(c["mode"]), c.value("norm_len", 1.0));
        loss.backward();
        EXPECT_TRUE(torch::isfinite(logp.grad()).all().item<bool>()) << id;
        if (exact) {
          expect_matrix(token_loss, e["token_loss"], "token_loss", id + ": " + why);
          EXPECT_NEAR(loss.item<double>(), number(e["loss"]), 1e-6) << id << ": " << why;
          expect_matrix(logp.grad(), e["grad_logp"], "grad_logp", id + ": " + why);
        }
      } else {
        ADD_FAILURE() << "unknown case kind " << kind;
      }
    }
    ++n;
  }
  EXPECT_GE(n, 1) << "no cases in " << cases_dir();
}

TEST(Advantages, EstimatorsOnOneGroup) {
  const std::vector<std::string> ids = {"p", "p", "p", "q", "q"};
  const std::vector<std::optional<double>> r = {1.0, 0.0, 0.5, 2.0, std::nullopt};
  AdvantageOptions rloo{AdvantageEstimator::kRloo, true};
  const auto a = compute_advantages(ids, r, rloo);
  EXPECT_NEAR(a[0], 1.0 - 0.25, 1e-12);  // 1 − mean(0, 0.5)
  EXPECT_NEAR(a[1], 0.0 - 0.75, 1e-12);
  EXPECT_EQ(a[3], 0.0);  // q has one scored sample
  EXPECT_EQ(a[4], 0.0);
  AdvantageOptions rpp{AdvantageEstimator::kReinforcePlusPlusBaseline, true};
  const auto b = compute_advantages(ids, r, rpp);
  // Centred within the group, then normalised by the batch std of the centred values (population).
  const double c0 = 0.5, c1 = -0.5, c2 = 0.0, sd = std::sqrt((c0 * c0 + c1 * c1 + c2 * c2) / 3.0);
  EXPECT_NEAR(b[0], c0 / (sd + 1e-6), 1e-9);
  EXPECT_NEAR(b[1], c1 / (sd + 1e-6), 1e-9);
  EXPECT_THROW(compute_advantages({"p"}, {1.0, 2.0}), std::exception);
}

// Field report (other RL frameworks): a k3 KL of exp(x) - x - 1 went negative in float32 for log ratios near 0
// (exp(x) rounds to 1 + x), and a negative KL term rewarded moving away from the reference.
TEST(KlPenalty, K2AndK3AreNonNegativeForEveryInputInFloat32) {
  std::vector<double> x = {0.0, 1e-12, -1e-12, 1e-9, -1e-9, 3e-8, -3e-8, 1e-7, -1e-7, 5e-7, -5e-7, 1e-6, -1e-6,
                           1e-5, -1e-5, 1e-4, -1e-4, 3e-4, -3e-4, 1e-3, -1e-3, 0.1, -0.1, 1.0, -1.0, 19.0, -19.0,
                           25.0, -25.0, 1e30, -1e30};
  at::Generator gen = at::detail::createCPUGenerator(3);
  const at::Tensor random = at::randn({4096}, gen, at::kDouble) * at::pow(10.0, at::randint(-12, 1, {4096}, gen).to(at::kDouble));
  const at::Tensor xs = at::cat({at::tensor(x, at::kDouble), random});
  for (const auto dtype : {at::kFloat, at::kDouble}) {
    // logp_ref − logp = x, with logp at a typical magnitude so the subtraction itself rounds as in training
    const at::Tensor logp = at::full(xs.sizes(), -2.3, dtype);
    const at::Tensor logp_ref = (logp.to(at::kDouble) + xs).to(dtype);
    for (const auto k : {KlEstimator::kK2, KlEstimator::kK3}) {
      const at::Tensor kl = kl_penalty(logp.unsqueeze(0), logp_ref.unsqueeze(0), k);
      EXPECT_TRUE(at::isfinite(kl).all().item<bool>());
      EXPECT_GE(kl.min().item<double>(), 0.0) << "estimator k" << (k == KlEstimator::kK2 ? 2 : 3) << " dtype " << dtype;
    }
  }
  // Accuracy where the plain formula loses every digit: k3(1e-4) = 1e-4^2 / 2 + 1e-4^3 / 6 + ...
  const at::Tensor k3 = kl_penalty(at::zeros({1, 1}, at::kFloat), at::full({1, 1}, 1e-4, at::kFloat), KlEstimator::kK3);
  EXPECT_NEAR(k3.item<double>(), 5.0e-9, 1e-10);  // exp(x) - x - 1 in float32 gives 0 or +-6e-8 here
  // and the gradient at equality is 0 (no push when the policy is the reference)
  at::Tensor lp = at::full({1, 3}, -1.5, at::kFloat).requires_grad_(true);
  kl_penalty(lp, lp.detach(), KlEstimator::kK3).sum().backward();
  EXPECT_EQ(lp.grad().abs().max().item<double>(), 0.0);
}

}  // namespace
}  // namespace seer::trainer
