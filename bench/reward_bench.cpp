// Reward benchmarks, printed as JSON and as ratios against baselines measured in the same run
// (this machine is shared and noisy):
//   1. format + numeric scoring throughput, samples/s on one core; baseline: one memchr pass over the
//      same texts (the cost of merely reading them).
//   2. math-type scoring throughput (LaTeX golds: fractions, roots, intervals, sets, matrices), samples/s on one
//      core, beside the format+numeric rate of 1.
//   3. a 64-sample Score request over loopback gRPC: p50/p99 latency; baseline: the Health RPC.
// Usage: reward_bench [--seconds S]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "reward/client.h"
#include "reward/scorer.h"
#include "reward/service.h"

using namespace seer::reward;
using Clock = std::chrono::steady_clock;

namespace {

std::vector<Sample> make_samples(int n) {
  std::vector<Sample> out;
  for (int i = 0; i < n; ++i) {
    Sample s;
    std::string think = "Counting the objects in the image one by one: ";
    for (int k = 0; k < 40; ++k) think += "object " + std::to_string(k) + " is a cube, ";
    s.completion = "<think>" + think + "</think>\n<answer>" + std::to_string(i % 17) + " cubes</answer>";
    s.gold = std::to_string(i % 13);
    s.answer_type = AnswerType::kNumeric;
    out.push_back(std::move(s));
  }
  return out;
}

/// Math answers in the notations R1-style math data uses, each paired with an equal and an unequal gold.
std::vector<Sample> make_math_samples(int n) {
  const std::pair<const char*, const char*> pairs[] = {
      {"\\frac{3}{4}", "0.75"},
      {"\\dfrac{\\sqrt{3}}{2}", "\\frac{\\sqrt 3}{2}"},
      {"2\\sqrt{2}", "\\sqrt{8}"},
      {"(-\\infty, 3]", "(-\\infty,3]"},
      {"\\{1, 2, 5\\}", "\\{5,2,1\\}"},
      {"x^2+2x+1", "(x+1)^2"},
      {"\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}", "\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}"},
      {"\\frac{\\pi}{6}", "\\frac{\\pi}{3}"},
  };
  std::vector<Sample> out;
  for (int i = 0; i < n; ++i) {
    const auto& [answer, gold] = pairs[static_cast<size_t>(i) % std::size(pairs)];
    Sample s;
    std::string think = "Simplify step by step: ";
    for (int k = 0; k < 20; ++k) think += "term " + std::to_string(k) + " cancels, ";
    s.completion = "<think>" + think + "</think>\n<answer>\\boxed{" + answer + "}</answer>";
    s.gold = (i / static_cast<int>(std::size(pairs))) % 2 == 0 ? gold : "\\frac{7}{9}";
    s.answer_type = AnswerType::kMath;
    out.push_back(std::move(s));
  }
  return out;
}

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[static_cast<size_t>(p * static_cast<double>(v.size() - 1))];
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 2.0;
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--seconds") == 0) seconds = std::atof(argv[i + 1]);
  }
  const auto samples = make_samples(256);
  ScoringOptions options;

  // 1. Throughput on one core.
  size_t scored = 0, bytes = 0;
  volatile double sink = 0;
  auto t0 = Clock::now();
  while (std::chrono::duration<double>(Clock::now() - t0).count() < seconds) {
    for (const auto& s : samples) {
      sink = sink + score_sample(s, options).total;
      ++scored;
    }
  }
  const double score_rate = static_cast<double>(scored) / std::chrono::duration<double>(Clock::now() - t0).count();
  size_t read = 0;
  t0 = Clock::now();
  while (std::chrono::duration<double>(Clock::now() - t0).count() < seconds) {
    for (const auto& s : samples) {
      sink = sink + (std::memchr(s.completion.data(), '\x01', s.completion.size()) == nullptr ? 1 : 0);
      bytes += s.completion.size();
      ++read;
    }
  }
  const double read_rate = static_cast<double>(read) / std::chrono::duration<double>(Clock::now() - t0).count();
  const auto math_samples = make_math_samples(256);
  size_t math_scored = 0, math_unscorable = 0;
  t0 = Clock::now();
  while (std::chrono::duration<double>(Clock::now() - t0).count() < seconds) {
    for (const auto& s : math_samples) {
      const Score r = score_sample(s, options);
      sink = sink + r.total;
      math_unscorable += r.status == Status::kUnscorable;
      ++math_scored;
    }
  }
  const double math_rate = static_cast<double>(math_scored) / std::chrono::duration<double>(Clock::now() - t0).count();

  // 2. Loopback latency of a 64-sample request vs the Health RPC.
  ServerOptions so;
  so.threads = 2;
  RewardServer server(so);
  ClientOptions co;
  co.address = server.address();
  RewardClient client(co);
  const std::vector<Sample> request(samples.begin(), samples.begin() + 64);
  std::vector<double> score_ms, health_ms;
  for (int i = 0; i < 20; ++i) client.score(request);  // warm-up
  t0 = Clock::now();
  while (std::chrono::duration<double>(Clock::now() - t0).count() < seconds || score_ms.size() < 50) {
    auto a = Clock::now();
    client.score(request);
    score_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - a).count());
    a = Clock::now();
    client.healthy();
    health_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - a).count());
  }
  const double p50 = percentile(score_ms, 0.5), p99 = percentile(score_ms, 0.99);
  const double h50 = percentile(health_ms, 0.5), h99 = percentile(health_ms, 0.99);

  std::printf("{\"bench\":\"reward\",\"format_numeric_samples_per_s_per_core\":%.0f,"
              "\"baseline_read_samples_per_s\":%.0f,\"score_vs_read\":%.4f,"
              "\"request64_p50_ms\":%.3f,\"request64_p99_ms\":%.3f,\"health_p50_ms\":%.3f,\"health_p99_ms\":%.3f,"
              "\"request64_vs_health_p50\":%.2f,\"requests\":%zu,\"math_samples_per_s_per_core\":%.0f,"
              "\"math_vs_format_numeric\":%.4f,\"math_unscorable\":%zu}\n",
              score_rate, read_rate, score_rate / read_rate, p50, p99, h50, h99, p50 / h50, score_ms.size(), math_rate,
              math_rate / score_rate, math_unscorable);
  std::printf("math scoring (LaTeX golds): %.0f samples/s on one core (%.2fx the format+numeric rate), %zu over the "
              "per-sample budget\n", math_rate, math_rate / score_rate, math_unscorable);
  std::printf("format+numeric scoring: %.0f samples/s on one core (%.1f%% of a bare memchr read of the same text)\n",
              score_rate, 100.0 * score_rate / read_rate);
  std::printf("64-sample Score over loopback: p50 %.2f ms, p99 %.2f ms (Health RPC: p50 %.2f ms, p99 %.2f ms; "
              "ratio p50 %.1fx)\n", p50, p99, h50, h99, p50 / h50);
  return sink < 0 ? 1 : 0;
}
