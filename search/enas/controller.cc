#include "search/enas/controller.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "absl/strings/str_cat.h"

namespace edgenas {
namespace enas {
namespace {

constexpr char kMagic[8] = {'E', 'N', 'A', 'S', 'C', 'T', 'L', '1'};

double Sigmoid(double x) { return 1 / (1 + std::exp(-x)); }

// out += M v, M rows x cols row-major at m.
void MatVec(const double* m, int rows, int cols, const double* v, double* out) {
  for (int r = 0; r < rows; ++r) {
    double s = 0;
    const double* row = m + static_cast<size_t>(r) * cols;
    for (int c = 0; c < cols; ++c) s += row[c] * v[c];
    out[r] += s;
  }
}

// out += M^T v.
void MatTVec(const double* m, int rows, int cols, const double* v, double* out) {
  for (int r = 0; r < rows; ++r) {
    const double* row = m + static_cast<size_t>(r) * cols;
    for (int c = 0; c < cols; ++c) out[c] += row[c] * v[r];
  }
}

// G += a b^T.
void Outer(const double* a, int rows, const double* b, int cols, double* g) {
  for (int r = 0; r < rows; ++r) {
    double* row = g + static_cast<size_t>(r) * cols;
    for (int c = 0; c < cols; ++c) row[c] += a[r] * b[c];
  }
}

}  // namespace

// What one pass over the decisions keeps for the backward pass.
struct Controller::Trace {
  struct Step {
    std::vector<double> x, h_prev, c_prev;  // inputs of the cell
    std::vector<double> i, f, g, o;         // gates after their nonlinearity
    std::vector<double> c, tanh_c, h;
    std::vector<double> squashed;  // tanh(u / T) of each choice
    std::vector<double> p;         // softmax of C * squashed
    int choice = 0;
  };
  std::vector<Step> steps;
  ControllerSample sample;
};

Controller::Controller(std::vector<int> choices, ControllerConfig config, uint64_t seed)
    : choices_(std::move(choices)), config_(config) {
  const size_t h = static_cast<size_t>(hidden());
  size_t size = LstmB() + 4 * h;
  for (int c : choices_) {
    softmax_w_.push_back(size);
    size += static_cast<size_t>(c) * h;
    softmax_b_.push_back(size);
    size += static_cast<size_t>(c);
    embedding_.push_back(size);
    size += static_cast<size_t>(c) * h;
  }
  params_.resize(size);
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> init(-config_.init_range, config_.init_range);
  for (double& p : params_) p = init(rng);
  adam_m_.assign(size, 0);
  adam_v_.assign(size, 0);
}

void Controller::Forward(std::mt19937_64* rng, bool greedy, const std::vector<int>* given,
                         Trace* trace) const {
  const int h = hidden();
  const double* p = params_.data();
  trace->steps.assign(choices_.size(), {});
  trace->sample = ControllerSample{};
  std::vector<double> h_prev(h, 0), c_prev(h, 0);
  for (size_t t = 0; t < choices_.size(); ++t) {
    Trace::Step& s = trace->steps[t];
    if (t == 0) {
      s.x.assign(p + StartInput(), p + StartInput() + h);
    } else {
      const double* row = p + embedding_[t - 1] + static_cast<size_t>(trace->steps[t - 1].choice) * h;
      s.x.assign(row, row + h);
    }
    s.h_prev = h_prev;
    s.c_prev = c_prev;
    std::vector<double> z(p + LstmB(), p + LstmB() + 4 * h);
    MatVec(p + LstmW(), 4 * h, h, s.x.data(), z.data());
    MatVec(p + LstmU(), 4 * h, h, h_prev.data(), z.data());
    s.i.resize(h), s.f.resize(h), s.g.resize(h), s.o.resize(h);
    s.c.resize(h), s.tanh_c.resize(h), s.h.resize(h);
    for (int k = 0; k < h; ++k) {
      s.i[k] = Sigmoid(z[k]);
      s.f[k] = Sigmoid(z[h + k]);
      s.g[k] = std::tanh(z[2 * h + k]);
      s.o[k] = Sigmoid(z[3 * h + k]);
      s.c[k] = s.f[k] * c_prev[k] + s.i[k] * s.g[k];
      s.tanh_c[k] = std::tanh(s.c[k]);
      s.h[k] = s.o[k] * s.tanh_c[k];
    }
    const int n = choices_[t];
    std::vector<double> u(p + softmax_b_[t], p + softmax_b_[t] + n);
    MatVec(p + softmax_w_[t], n, h, s.h.data(), u.data());
    s.squashed.resize(n);
    s.p.resize(n);
    double top = -std::numeric_limits<double>::infinity();
    for (int k = 0; k < n; ++k) {
      s.squashed[k] = std::tanh(u[k] / config_.temperature);
      top = std::max(top, config_.tanh_constant * s.squashed[k]);
    }
    double sum = 0;
    for (int k = 0; k < n; ++k) sum += s.p[k] = std::exp(config_.tanh_constant * s.squashed[k] - top);
    for (int k = 0; k < n; ++k) s.p[k] /= sum;
    if (given != nullptr) {
      s.choice = (*given)[t];
    } else if (greedy) {
      s.choice = static_cast<int>(std::max_element(s.p.begin(), s.p.end()) - s.p.begin());
    } else {
      // Inverse CDF on the generator's raw output, the same on every platform.
      const double r = static_cast<double>((*rng)() >> 11) * 0x1.0p-53;
      double acc = 0;
      s.choice = n - 1;
      for (int k = 0; k < n; ++k) {
        acc += s.p[k];
        if (r < acc) {
          s.choice = k;
          break;
        }
      }
    }
    double entropy = 0;
    for (int k = 0; k < n; ++k)
      if (s.p[k] > 0) entropy -= s.p[k] * std::log(s.p[k]);
    trace->sample.decisions.push_back(s.choice);
    trace->sample.log_prob += std::log(s.p[s.choice]);
    trace->sample.entropy += entropy;
    h_prev = s.h;
    c_prev = s.c;
  }
}

ControllerSample Controller::Sample(std::mt19937_64& rng) const {
  Trace t;
  Forward(&rng, false, nullptr, &t);
  return t.sample;
}

ControllerSample Controller::Greedy() const {
  Trace t;
  Forward(nullptr, true, nullptr, &t);
  return t.sample;
}

ControllerSample Controller::Score(const std::vector<int>& decisions) const {
  Trace t;
  Forward(nullptr, false, &decisions, &t);
  return t.sample;
}

void Controller::Backward(const Trace& trace, double advantage, double entropy_weight,
                          std::vector<double>* gradient) const {
  const int h = hidden();
  const double* p = params_.data();
  double* g = gradient->data();
  std::vector<double> dh_next(h, 0), dc_next(h, 0);
  for (size_t t = trace.steps.size(); t-- > 0;) {
    const Trace::Step& s = trace.steps[t];
    const int n = choices_[t];
    double entropy = 0;
    for (int k = 0; k < n; ++k)
      if (s.p[k] > 0) entropy -= s.p[k] * std::log(s.p[k]);
    // dL/dlogit_k for L = -A log p(a) - w H: -A ([k == a] - p_k) + w p_k (log p_k + H).
    std::vector<double> du(n);
    for (int k = 0; k < n; ++k) {
      const double log_p = s.p[k] > 0 ? std::log(s.p[k]) : 0;
      const double d_logit =
          -advantage * ((k == s.choice ? 1.0 : 0.0) - s.p[k]) + entropy_weight * s.p[k] * (log_p + entropy);
      du[k] = d_logit * config_.tanh_constant * (1 - s.squashed[k] * s.squashed[k]) / config_.temperature;
    }
    Outer(du.data(), n, s.h.data(), h, g + softmax_w_[t]);
    for (int k = 0; k < n; ++k) g[softmax_b_[t] + k] += du[k];
    std::vector<double> dh = dh_next;
    MatTVec(p + softmax_w_[t], n, h, du.data(), dh.data());

    std::vector<double> dz(4 * h), dc_prev(h);
    for (int k = 0; k < h; ++k) {
      const double dc = dh[k] * s.o[k] * (1 - s.tanh_c[k] * s.tanh_c[k]) + dc_next[k];
      const double d_o = dh[k] * s.tanh_c[k];
      const double d_i = dc * s.g[k];
      const double d_g = dc * s.i[k];
      const double d_f = dc * s.c_prev[k];
      dc_prev[k] = dc * s.f[k];
      dz[k] = d_i * s.i[k] * (1 - s.i[k]);
      dz[h + k] = d_f * s.f[k] * (1 - s.f[k]);
      dz[2 * h + k] = d_g * (1 - s.g[k] * s.g[k]);
      dz[3 * h + k] = d_o * s.o[k] * (1 - s.o[k]);
    }
    Outer(dz.data(), 4 * h, s.x.data(), h, g + LstmW());
    Outer(dz.data(), 4 * h, s.h_prev.data(), h, g + LstmU());
    for (int k = 0; k < 4 * h; ++k) g[LstmB() + k] += dz[k];
    std::vector<double> dx(h, 0), dh_prev(h, 0);
    MatTVec(p + LstmW(), 4 * h, h, dz.data(), dx.data());
    MatTVec(p + LstmU(), 4 * h, h, dz.data(), dh_prev.data());
    double* dx_to = t == 0 ? g + StartInput()
                           : g + embedding_[t - 1] + static_cast<size_t>(trace.steps[t - 1].choice) * h;
    for (int k = 0; k < h; ++k) dx_to[k] += dx[k];
    dh_next = std::move(dh_prev);
    dc_next = std::move(dc_prev);
  }
}

double Controller::Loss(const std::vector<ControllerSample>& samples,
                        const std::vector<double>& advantages, std::vector<double>* gradient) const {
  if (gradient != nullptr) gradient->assign(params_.size(), 0);
  double loss = 0;
  const double n = static_cast<double>(samples.size());
  for (size_t k = 0; k < samples.size(); ++k) {
    Trace t;
    Forward(nullptr, false, &samples[k].decisions, &t);
    loss += -(advantages[k] * t.sample.log_prob + config_.entropy_weight * t.sample.entropy) / n;
    if (gradient != nullptr) {
      std::vector<double> one(params_.size(), 0);
      Backward(t, advantages[k], config_.entropy_weight, &one);
      for (size_t i = 0; i < one.size(); ++i) (*gradient)[i] += one[i] / n;
    }
  }
  return loss;
}

ControllerStep Controller::Update(const std::vector<ControllerSample>& samples,
                                  const std::vector<double>& rewards) {
  ControllerStep out;
  if (samples.empty()) return out;
  std::vector<double> advantages;
  for (double r : rewards) {
    if (!baseline_set_) {
      baseline_ = r;
      baseline_set_ = true;
    } else {
      baseline_ = config_.baseline_decay * baseline_ + (1 - config_.baseline_decay) * r;
    }
    out.mean_reward += r / rewards.size();
  }
  for (double r : rewards) advantages.push_back(r - baseline_);
  std::vector<double> gradient;
  out.loss = Loss(samples, advantages, &gradient);
  ++steps_;
  const double c1 = 1 - std::pow(config_.adam_beta1, static_cast<double>(steps_));
  const double c2 = 1 - std::pow(config_.adam_beta2, static_cast<double>(steps_));
  for (size_t i = 0; i < params_.size(); ++i) {
    adam_m_[i] = config_.adam_beta1 * adam_m_[i] + (1 - config_.adam_beta1) * gradient[i];
    adam_v_[i] = config_.adam_beta2 * adam_v_[i] + (1 - config_.adam_beta2) * gradient[i] * gradient[i];
    const double m = c1 > 0 ? adam_m_[i] / c1 : adam_m_[i];
    const double v = adam_v_[i] / c2;
    params_[i] -= config_.learning_rate * m / (std::sqrt(v) + config_.adam_epsilon);
  }
  out.baseline = baseline_;
  for (const ControllerSample& s : samples) out.mean_entropy += s.entropy / samples.size();
  return out;
}

std::string Controller::ToBytes() const {
  std::string out(kMagic, sizeof kMagic);
  auto put = [&](const void* data, size_t bytes) {
    out.append(static_cast<const char*>(data), bytes);
  };
  const uint64_t count = params_.size();
  const int64_t steps = steps_;
  const uint8_t set = baseline_set_ ? 1 : 0;
  put(&count, sizeof count);
  put(&steps, sizeof steps);
  put(&baseline_, sizeof baseline_);
  put(&set, sizeof set);
  for (const std::vector<double>* v : {&params_, &adam_m_, &adam_v_})
    put(v->data(), v->size() * sizeof(double));
  return out;
}

absl::StatusOr<Controller> Controller::FromBytes(std::vector<int> choices, ControllerConfig config,
                                                 const std::string& bytes) {
  Controller c(std::move(choices), config, 0);
  const size_t header = sizeof kMagic + sizeof(uint64_t) + sizeof(int64_t) + sizeof(double) + 1;
  const size_t want = header + 3 * c.params_.size() * sizeof(double);
  if (bytes.size() < sizeof kMagic || std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0)
    return absl::DataLossError("controller: not a saved controller");
  if (bytes.size() != want)
    return absl::DataLossError(absl::StrCat("controller: ", bytes.size(), " bytes where this "
                                            "controller's shape needs ", want));
  size_t at = sizeof kMagic;
  auto get = [&](void* data, size_t n) {
    std::memcpy(data, bytes.data() + at, n);
    at += n;
  };
  uint64_t count = 0;
  uint8_t set = 0;
  get(&count, sizeof count);
  get(&c.steps_, sizeof c.steps_);
  get(&c.baseline_, sizeof c.baseline_);
  get(&set, sizeof set);
  if (count != c.params_.size() || c.steps_ < 0 || set > 1 || !std::isfinite(c.baseline_))
    return absl::DataLossError("controller: a damaged header");
  c.baseline_set_ = set == 1;
  for (std::vector<double>* v : {&c.params_, &c.adam_m_, &c.adam_v_}) {
    get(v->data(), v->size() * sizeof(double));
    for (double x : *v)
      if (!std::isfinite(x)) return absl::DataLossError("controller: a value is not finite");
  }
  return c;
}

}  // namespace enas
}  // namespace edgenas
