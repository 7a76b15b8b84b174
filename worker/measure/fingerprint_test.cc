#include "worker/measure/fingerprint.h"

#include <string>

#include "gtest/gtest.h"

namespace edgenas {
namespace {

// Two logical CPUs of a cloud Xeon, abridged only in the flags line.
constexpr std::string_view kX86CpuInfo =
    "processor\t: 0\n"
    "vendor_id\t: GenuineIntel\n"
    "cpu family\t: 6\n"
    "model\t\t: 85\n"
    "model name\t: Intel(R) Xeon(R) Platinum 8259CL CPU @ 2.50GHz\n"
    "stepping\t: 7\n"
    "microcode\t: 0x5003604\n"
    "cpu MHz\t\t: 2499.998\n"
    "cache size\t: 36608 KB\n"
    "physical id\t: 0\n"
    "siblings\t: 2\n"
    "core id\t\t: 0\n"
    "cpu cores\t: 1\n"
    "fpu\t\t: yes\n"
    "flags\t\t: fpu vme de pse tsc msr pae mce cx8 apic sep avx512f avx512_vnni\n"
    "bogomips\t: 4999.99\n"
    "address sizes\t: 46 bits physical, 48 bits virtual\n"
    "power management:\n"
    "\n"
    "processor\t: 1\n"
    "vendor_id\t: GenuineIntel\n"
    "cpu family\t: 6\n"
    "model\t\t: 85\n"
    "model name\t: Intel(R) Xeon(R) Platinum 8259CL CPU @ 2.50GHz\n"
    "stepping\t: 7\n"
    "power management:\n"
    "\n";

// One block of a Raspberry Pi 4 on the 64-bit Raspberry Pi OS kernel: no
// "model name", the core only as a part number.
constexpr std::string_view kPi4Block =
    "BogoMIPS\t: 108.00\n"
    "Features\t: fp asimd evtstrm crc32 cpuid\n"
    "CPU implementer\t: 0x41\n"
    "CPU architecture: 8\n"
    "CPU variant\t: 0x0\n"
    "CPU part\t: 0xd08\n"
    "CPU revision\t: 3\n"
    "\n";

std::string Pi4CpuInfo(bool with_model_line) {
  std::string info;
  for (int cpu = 0; cpu < 4; ++cpu) {
    info += "processor\t: " + std::to_string(cpu) + "\n";
    info += kPi4Block;
  }
  info += "Hardware\t: BCM2835\n";
  info += "Revision\t: c03114\n";
  info += "Serial\t\t: 100000002d6e8f1b\n";
  if (with_model_line) info += "Model\t\t: Raspberry Pi 4 Model B Rev 1.4\n";
  return info;
}

// The same board under the 32-bit kernel prints a generic model name.
constexpr std::string_view kPi4CpuInfo32Bit =
    "processor\t: 0\n"
    "model name\t: ARMv7 Processor rev 3 (v7l)\n"
    "BogoMIPS\t: 108.00\n"
    "Features\t: half thumb fastmult vfp edsp neon vfpv3 tls vfpv4 idiva idivt vfpd32 lpae\n"
    "CPU implementer\t: 0x41\n"
    "CPU architecture: 7\n"
    "CPU variant\t: 0x0\n"
    "CPU part\t: 0xd08\n"
    "CPU revision\t: 3\n"
    "\n"
    "Hardware\t: BCM2711\n"
    "Revision\t: b03114\n";

// A phone with three clusters (Tensor G2: 4x A55, 2x A78, 2x X1), abridged to
// one CPU per cluster.
constexpr std::string_view kPhoneCpuInfo =
    "processor\t: 0\nCPU implementer\t: 0x41\nCPU part\t: 0xd05\n\n"
    "processor\t: 1\nCPU implementer\t: 0x41\nCPU part\t: 0xd05\n\n"
    "processor\t: 4\nCPU implementer\t: 0x41\nCPU part\t: 0xd41\n\n"
    "processor\t: 6\nCPU implementer\t: 0x41\nCPU part\t: 0xd44\n\n";

TEST(ParseCpuModelTest, X86UsesModelName) {
  EXPECT_EQ(ParseCpuModel(kX86CpuInfo), "Intel(R) Xeon(R) Platinum 8259CL CPU @ 2.50GHz");
}

TEST(ParseCpuModelTest, RaspberryPi4WithDeviceTreeModel) {
  // As read from /proc/device-tree/model: NUL-terminated.
  const std::string device_tree("Raspberry Pi 4 Model B Rev 1.4\0", 31);
  EXPECT_EQ(ParseCpuModel(Pi4CpuInfo(false), device_tree),
            "Cortex-A72 (Raspberry Pi 4 Model B Rev 1.4)");
}

TEST(ParseCpuModelTest, RaspberryPi4FallsBackToTheKernelModelLine) {
  EXPECT_EQ(ParseCpuModel(Pi4CpuInfo(true)), "Cortex-A72 (Raspberry Pi 4 Model B Rev 1.4)");
  EXPECT_EQ(ParseCpuModel(Pi4CpuInfo(false)), "Cortex-A72");
}

TEST(ParseCpuModelTest, PartNumberBeatsGenericArmModelName) {
  EXPECT_EQ(ParseCpuModel(kPi4CpuInfo32Bit), "Cortex-A72");
}

TEST(ParseCpuModelTest, OtherRaspberryPiCores) {
  EXPECT_EQ(ParseCpuModel("processor\t: 0\nCPU implementer\t: 0x41\nCPU part\t: 0xd03\n",
                          "Raspberry Pi 3 Model B Plus Rev 1.3"),
            "Cortex-A53 (Raspberry Pi 3 Model B Plus Rev 1.3)");
  EXPECT_EQ(ParseCpuModel("processor\t: 0\nCPU implementer\t: 0x41\nCPU part\t: 0xD0B\n",
                          "Raspberry Pi 5 Model B Rev 1.0"),
            "Cortex-A76 (Raspberry Pi 5 Model B Rev 1.0)");
}

TEST(ParseCpuModelTest, BigLittleListsEachCoreTypeOnce) {
  EXPECT_EQ(ParseCpuModel(kPhoneCpuInfo), "Cortex-A55 + Cortex-A78 + Cortex-X1");
}

TEST(ParseCpuModelTest, UnknownPartsKeepTheirNumbers) {
  EXPECT_EQ(ParseCpuModel("CPU implementer\t: 0x41\nCPU part\t: 0xd0c\n"), "Arm part 0xd0c");
  EXPECT_EQ(ParseCpuModel("CPU implementer\t: 0x51\nCPU part\t: 0x805\n"),
            "CPU implementer 0x51 part 0x805");
}

TEST(ParseCpuModelTest, EmptyOrUnrelatedInput) {
  EXPECT_EQ(ParseCpuModel(""), "");
  EXPECT_EQ(ParseCpuModel("garbage without separators\n\n"), "");
  EXPECT_EQ(ParseCpuModel("", std::string("Some Board\0", 11)), "Some Board");
}

TEST(ParseOsReleaseTest, DebianPrettyName) {
  constexpr std::string_view kDebian =
      "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n"
      "NAME=\"Debian GNU/Linux\"\n"
      "VERSION_ID=\"12\"\n"
      "VERSION=\"12 (bookworm)\"\n"
      "VERSION_CODENAME=bookworm\n"
      "ID=debian\n"
      "HOME_URL=\"https://www.debian.org/\"\n";
  EXPECT_EQ(ParseOsRelease(kDebian), "Debian GNU/Linux 12 (bookworm)");
}

TEST(ParseOsReleaseTest, QuotingStylesAndFallbackToName) {
  EXPECT_EQ(ParseOsRelease("# comment\nPRETTY_NAME='Raspbian GNU/Linux 11 (bullseye)'\n"),
            "Raspbian GNU/Linux 11 (bullseye)");
  EXPECT_EQ(ParseOsRelease("PRETTY_NAME=Alpine\n"), "Alpine");
  EXPECT_EQ(ParseOsRelease("PRETTY_NAME=\"Say \\\"hi\\\" \\\\ \\$HOME\"\n"), "Say \"hi\" \\ $HOME");
  EXPECT_EQ(ParseOsRelease("ID=foo\nNAME=\"Foo OS\"\n"), "Foo OS");
  EXPECT_EQ(ParseOsRelease(""), "");
}

TEST(ParseThermalMillidegreesTest, ReadsMillidegrees) {
  ASSERT_TRUE(ParseThermalMillidegrees("48312\n").has_value());
  EXPECT_DOUBLE_EQ(*ParseThermalMillidegrees("48312\n"), 48.312);
  EXPECT_DOUBLE_EQ(*ParseThermalMillidegrees("0"), 0.0);
  EXPECT_DOUBLE_EQ(*ParseThermalMillidegrees("-5500\n"), -5.5);
}

TEST(ParseThermalMillidegreesTest, RefusesGarbageAndImplausibleValues) {
  EXPECT_FALSE(ParseThermalMillidegrees("").has_value());
  EXPECT_FALSE(ParseThermalMillidegrees("\n").has_value());
  EXPECT_FALSE(ParseThermalMillidegrees("48.3").has_value());
  EXPECT_FALSE(ParseThermalMillidegrees("hot").has_value());
  EXPECT_FALSE(ParseThermalMillidegrees("48312 extra").has_value());
  EXPECT_FALSE(ParseThermalMillidegrees("-273150").has_value());
  EXPECT_FALSE(ParseThermalMillidegrees("99999999999999999999999").has_value());
}

TEST(ReadFingerprintTest, ThisMachine) {
  const DeviceFingerprint fingerprint = ReadFingerprint();
  EXPECT_GE(fingerprint.cores, 1);
  EXPECT_FALSE(fingerprint.kernel.empty());
  EXPECT_FALSE(fingerprint.machine.empty());
  EXPECT_TRUE(fingerprint.isa.empty());  // the caller's to fill from oneDNN
  EXPECT_GE(fingerprint.temperature_c, -60.0);
  EXPECT_LE(fingerprint.temperature_c, 200.0);
}

}  // namespace
}  // namespace edgenas
