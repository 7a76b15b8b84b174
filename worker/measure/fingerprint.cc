#include "worker/measure/fingerprint.h"

#include <sys/utsname.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <fstream>
#include <thread>
#include <utility>
#include <vector>

#include "runtime/exec/dnnl_util.h"

namespace edgenas {
namespace {

// /proc/cpuinfo of a 256-thread server is well under this.
constexpr size_t kMaxFileBytes = 4 << 20;

// Readings outside this range come from absent or broken sensors.
constexpr int64_t kMinPlausibleMillidegrees = -60000;
constexpr int64_t kMaxPlausibleMillidegrees = 200000;

constexpr std::string_view kArmImplementer = "0x41";

// Arm's part numbers for the cores of the device classes we expect:
// Raspberry Pi 3/4/5 and the big.LITTLE clusters of recent phones.
constexpr std::pair<std::string_view, std::string_view> kArmCores[] = {
    {"0xd03", "Cortex-A53"}, {"0xd05", "Cortex-A55"}, {"0xd08", "Cortex-A72"},
    {"0xd0b", "Cortex-A76"}, {"0xd41", "Cortex-A78"}, {"0xd44", "Cortex-X1"},
};

// NUL counts as space: device-tree strings are read with their terminator.
std::string_view Trim(std::string_view s) {
  const auto is_space = [](char c) {
    return std::isspace(static_cast<unsigned char>(c)) != 0 || c == '\0';
  };
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Calls fn(key, value) for each "key <sep> value" line, both trimmed.
template <typename Fn>
void ForEachKeyValue(std::string_view text, char separator, Fn fn) {
  while (!text.empty()) {
    const size_t end = std::min(text.find('\n'), text.size());
    const std::string_view line = text.substr(0, end);
    text.remove_prefix(std::min(end + 1, text.size()));
    const size_t sep = line.find(separator);
    if (sep == std::string_view::npos) continue;
    fn(Trim(line.substr(0, sep)), Trim(line.substr(sep + 1)));
  }
}

std::string CoreName(std::string_view implementer, std::string_view part) {
  if (Lower(implementer) == kArmImplementer) {
    const std::string lower_part = Lower(part);
    for (const auto& [id, name] : kArmCores) {
      if (lower_part == id) return std::string(name);
    }
    return "Arm part " + std::string(part);
  }
  return "CPU implementer " + std::string(implementer) + " part " + std::string(part);
}

// os-release values are shell-quoted: "..." with backslash escapes, or '...'.
std::string Unquote(std::string_view value) {
  if (value.size() >= 2 && value.front() == '\'' && value.back() == '\'') {
    return std::string(value.substr(1, value.size() - 2));
  }
  if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
    value = value.substr(1, value.size() - 2);
    std::string out;
    for (size_t i = 0; i < value.size(); ++i) {
      if (value[i] == '\\' && i + 1 < value.size()) ++i;
      out += value[i];
    }
    return out;
  }
  return std::string(value);
}

std::string ReadSmallFile(const char* path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  // /proc and /sys files report size 0, so read until end of file.
  std::string contents;
  char buffer[4096];
  while (contents.size() < kMaxFileBytes) {
    in.read(buffer, sizeof(buffer));
    contents.append(buffer, static_cast<size_t>(in.gcount()));
    if (!in) break;
  }
  return contents;
}

}  // namespace

std::string ParseCpuModel(std::string_view cpuinfo, std::string_view device_tree_model) {
  std::string model_name;
  std::string board(Trim(device_tree_model));
  std::string implementer;
  std::vector<std::string> cores;  // distinct core types, in CPU order
  ForEachKeyValue(cpuinfo, ':', [&](std::string_view key, std::string_view value) {
    if (key == "model name" && model_name.empty()) {
      model_name = std::string(value);
    } else if (key == "CPU implementer") {
      implementer = std::string(value);
    } else if (key == "CPU part") {
      std::string core = CoreName(implementer, value);
      if (std::find(cores.begin(), cores.end(), core) == cores.end()) {
        cores.push_back(std::move(core));
      }
    } else if (key == "Model" && board.empty()) {
      board = std::string(value);
    }
  });

  // On ARM "model name" (when present at all) is a generic "ARMv7 Processor
  // rev 3 (v7l)"; the part numbers say which core it really is.
  std::string cpu = model_name;
  if (!cores.empty()) {
    cpu = cores[0];
    for (size_t i = 1; i < cores.size(); ++i) cpu += " + " + cores[i];
  }
  if (board.empty()) return cpu;
  if (cpu.empty()) return board;
  return cpu + " (" + board + ")";
}

std::string ParseOsRelease(std::string_view os_release) {
  std::string pretty_name;
  std::string name;
  ForEachKeyValue(os_release, '=', [&](std::string_view key, std::string_view value) {
    if (key == "PRETTY_NAME") pretty_name = Unquote(value);
    if (key == "NAME") name = Unquote(value);
  });
  return pretty_name.empty() ? name : pretty_name;
}

std::optional<double> ParseThermalMillidegrees(std::string_view contents) {
  const std::string_view text = Trim(contents);
  int64_t millidegrees = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), millidegrees);
  if (text.empty() || error != std::errc() || end != text.data() + text.size()) {
    return std::nullopt;
  }
  if (millidegrees < kMinPlausibleMillidegrees || millidegrees > kMaxPlausibleMillidegrees) {
    return std::nullopt;
  }
  return millidegrees / 1000.0;
}

DeviceFingerprint ReadFingerprint() {
  DeviceFingerprint fingerprint;

  std::string device_tree_model = ReadSmallFile("/proc/device-tree/model");
  if (device_tree_model.empty()) {
    device_tree_model = ReadSmallFile("/sys/firmware/devicetree/base/model");
  }
  fingerprint.cpu_model = ParseCpuModel(ReadSmallFile("/proc/cpuinfo"), device_tree_model);
  fingerprint.cores = static_cast<int>(std::thread::hardware_concurrency());

  struct utsname names;
  if (uname(&names) == 0) {
    fingerprint.kernel = names.release;
    fingerprint.machine = names.machine;
  }

  // os-release(5): /etc first, /usr/lib as the fallback.
  fingerprint.os = ParseOsRelease(ReadSmallFile("/etc/os-release"));
  if (fingerprint.os.empty()) fingerprint.os = ParseOsRelease(ReadSmallFile("/usr/lib/os-release"));

  fingerprint.governor =
      std::string(Trim(ReadSmallFile("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor")));
  fingerprint.temperature_c =
      ParseThermalMillidegrees(ReadSmallFile("/sys/class/thermal/thermal_zone0/temp"))
          .value_or(0.0);
  return fingerprint;
}

v1::Fingerprint FingerprintMessage() {
  const DeviceFingerprint f = ReadFingerprint();
  v1::Fingerprint m;
  m.set_cpu_model(f.cpu_model);
  m.set_cores(f.cores);
  m.set_isa(DnnlIsaName());
  m.set_os(f.os);
  m.set_kernel(f.kernel + " " + f.machine);
  m.set_governor(f.governor);
  m.set_temperature_c(f.temperature_c);
  return m;
}

}  // namespace edgenas
