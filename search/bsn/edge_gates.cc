#include "search/bsn/edge_gates.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace edgenas {
namespace bsn {
namespace {

constexpr char kMagic[8] = {'B', 'S', 'N', 'G', 'A', 'T', 'E', '1'};

double Sigmoid(double x) { return 1 / (1 + std::exp(-x)); }

}  // namespace

double BudgetedReward(double loss, double cost, double budget, double lambda) {
  return -(loss + lambda * std::max(0.0, cost - budget));
}

EdgeGates::EdgeGates(int edges, GateConfig config) : config_(config) {
  const double p = std::clamp(config_.initial_probability, 1e-6, 1 - 1e-6);
  theta_.assign(edges, std::log(p / (1 - p)));
  m_.assign(edges, 0);
  v_.assign(edges, 0);
}

double EdgeGates::probability(int edge) const { return Sigmoid(theta_[edge]); }

std::vector<uint8_t> EdgeGates::Sample(std::mt19937_64& rng) const {
  std::vector<uint8_t> gates(theta_.size());
  for (size_t e = 0; e < theta_.size(); ++e) {
    // The generator's raw output, the same draw on every platform.
    const double u = static_cast<double>(rng() >> 11) * 0x1.0p-53;
    gates[e] = u < Sigmoid(theta_[e]) ? 1 : 0;
  }
  return gates;
}

double EdgeGates::LogProb(const std::vector<uint8_t>& gates) const {
  double lp = 0;
  for (size_t e = 0; e < theta_.size(); ++e) {
    const double p = Sigmoid(theta_[e]);
    lp += std::log(gates[e] ? p : 1 - p);
  }
  return lp;
}

std::vector<uint8_t> EdgeGates::Final() const {
  std::vector<uint8_t> keep(theta_.size());
  for (size_t e = 0; e < theta_.size(); ++e) keep[e] = Sigmoid(theta_[e]) > 0.5 ? 1 : 0;
  return keep;
}

std::vector<double> EdgeGates::Gradient(const std::vector<std::vector<uint8_t>>& samples,
                                        const std::vector<double>& rewards) const {
  std::vector<double> g(theta_.size(), 0);
  if (samples.empty()) return g;
  double mean = 0;
  for (double r : rewards) mean += r / rewards.size();
  const double n = static_cast<double>(samples.size());
  for (size_t k = 0; k < samples.size(); ++k) {
    const double advantage = rewards[k] - mean;
    // d log P(H) / d theta_e = H_e - p_e for p_e = sigmoid(theta_e).
    for (size_t e = 0; e < theta_.size(); ++e)
      g[e] += advantage * (samples[k][e] - Sigmoid(theta_[e])) / n;
  }
  return g;
}

GateStep EdgeGates::Update(const std::vector<std::vector<uint8_t>>& samples,
                           const std::vector<double>& rewards) {
  GateStep out;
  const std::vector<double> g = Gradient(samples, rewards);
  ++steps_;
  const double c1 = 1 - std::pow(config_.adam_beta1, static_cast<double>(steps_));
  const double c2 = 1 - std::pow(config_.adam_beta2, static_cast<double>(steps_));
  for (size_t e = 0; e < theta_.size(); ++e) {
    m_[e] = config_.adam_beta1 * m_[e] + (1 - config_.adam_beta1) * g[e];
    v_[e] = config_.adam_beta2 * v_[e] + (1 - config_.adam_beta2) * g[e] * g[e];
    theta_[e] += config_.learning_rate * (m_[e] / c1) / (std::sqrt(v_[e] / c2) + config_.adam_epsilon);
    out.mean_probability += Sigmoid(theta_[e]) / theta_.size();
  }
  for (double r : rewards) out.mean_reward += r / rewards.size();
  return out;
}

std::string EdgeGates::ToBytes() const {
  std::string out(kMagic, sizeof kMagic);
  const uint64_t count = theta_.size();
  out.append(reinterpret_cast<const char*>(&count), sizeof count);
  out.append(reinterpret_cast<const char*>(&steps_), sizeof steps_);
  for (const std::vector<double>* v : {&theta_, &m_, &v_})
    out.append(reinterpret_cast<const char*>(v->data()), v->size() * sizeof(double));
  return out;
}

absl::StatusOr<EdgeGates> EdgeGates::FromBytes(int edges, GateConfig config, const std::string& bytes) {
  EdgeGates g(edges, config);
  const size_t want = sizeof kMagic + sizeof(uint64_t) + sizeof(int64_t) + 3 * edges * sizeof(double);
  if (bytes.size() < sizeof kMagic || std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0)
    return absl::DataLossError("bsn gates: not saved gates");
  if (bytes.size() != want)
    return absl::DataLossError(
        absl::StrCat("bsn gates: ", bytes.size(), " bytes where ", edges, " edges need ", want));
  size_t at = sizeof kMagic;
  uint64_t count = 0;
  std::memcpy(&count, bytes.data() + at, sizeof count);
  at += sizeof count;
  std::memcpy(&g.steps_, bytes.data() + at, sizeof g.steps_);
  at += sizeof g.steps_;
  if (count != static_cast<uint64_t>(edges) || g.steps_ < 0)
    return absl::DataLossError("bsn gates: a damaged header");
  for (std::vector<double>* v : {&g.theta_, &g.m_, &g.v_}) {
    std::memcpy(v->data(), bytes.data() + at, v->size() * sizeof(double));
    at += v->size() * sizeof(double);
    for (double x : *v)
      if (!std::isfinite(x)) return absl::DataLossError("bsn gates: a value is not finite");
  }
  return g;
}

}  // namespace bsn
}  // namespace edgenas
