// What a device reports about itself when it enrolls and with each latency
// measurement, so the server can tell devices of one class apart and spot a
// measurement taken under different conditions (governor, heat).
#ifndef EDGENAS_WORKER_MEASURE_FINGERPRINT_H_
#define EDGENAS_WORKER_MEASURE_FINGERPRINT_H_

#include <optional>
#include <string>
#include <string_view>

#include "edgenas/v1/results.pb.h"

namespace edgenas {

struct DeviceFingerprint {
  // "AMD EPYC 7B13", or on ARM the core types and the board:
  // "Cortex-A72 (Raspberry Pi 4 Model B Rev 1.4)". Empty when unknown.
  std::string cpu_model;
  int cores = 0;               // logical CPUs; 0 when unknown
  std::string isa;             // the ISA oneDNN dispatches to; filled by the caller
  std::string os;              // PRETTY_NAME of os-release: "Debian GNU/Linux 12 (bookworm)"
  std::string kernel;          // uname release: "6.1.0-18-amd64"
  std::string machine;         // uname machine: "x86_64", "aarch64"
  std::string governor;        // cpufreq governor of cpu0 ("performance"); empty in most VMs
  double temperature_c = 0.0;  // thermal zone 0; 0 if unreadable
};

// Reads the running machine from /proc, /sys, /etc and uname. Never fails:
// what it cannot read stays empty (or 0), because a partial fingerprint is
// still worth reporting.
DeviceFingerprint ReadFingerprint();

// This machine's fingerprint as the wire carries it, the ISA filled in.
v1::Fingerprint FingerprintMessage();

// The parsers behind ReadFingerprint, pure so that samples from other
// machines can be tested anywhere.

// From /proc/cpuinfo: "model name" on x86; on ARM the distinct core types
// named from "CPU implementer" / "CPU part" ("Cortex-A55 + Cortex-A78"), since
// aarch64 kernels usually print no model name. The board, from the device-tree
// model file (device_tree_model, NUL-terminated as read) or else the
// Raspberry Pi kernel's "Model" line, is appended in parentheses.
std::string ParseCpuModel(std::string_view cpuinfo, std::string_view device_tree_model = {});

// PRETTY_NAME (or else NAME) from os-release text, unquoted; empty if neither.
std::string ParseOsRelease(std::string_view os_release);

// Degrees Celsius from a thermal zone's "temp" file (millidegrees, e.g.
// "48312\n"). nullopt for text that is not an integer or an implausible
// reading, which some sensors give when they are absent.
std::optional<double> ParseThermalMillidegrees(std::string_view contents);

}  // namespace edgenas

#endif  // EDGENAS_WORKER_MEASURE_FINGERPRINT_H_
