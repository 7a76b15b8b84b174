#include "runtime/data/data_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace edgenas {
namespace {

// Large enough that zlib call overhead vanishes, small enough that a forged
// header on a short compressed file costs at most this much memory.
constexpr size_t kChunkBytes = size_t{4} << 20;
constexpr unsigned kZlibBufferBytes = 128u << 10;

// zlib prefixes its messages with the descriptor ("<fd:3>: "), which says
// nothing to a reader who already has the path.
absl::string_view WithoutZlibPrefix(absl::string_view message) {
  if (absl::StartsWith(message, "<fd:")) {
    size_t colon = message.find(": ");
    if (colon != absl::string_view::npos) message.remove_prefix(colon + 2);
  }
  return message;
}

}  // namespace

void DataFile::GzCloser::operator()(gzFile_s* file) const { gzclose(file); }

absl::StatusOr<DataFile> DataFile::Open(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("cannot open dataset file ", path));
  }
  struct stat info;
  if (fstat(fd, &info) != 0) {
    int error = errno;
    close(fd);
    return absl::ErrnoToStatus(error, absl::StrCat("cannot stat dataset file ", path));
  }
  if (!S_ISREG(info.st_mode)) {
    close(fd);
    return absl::InvalidArgumentError(absl::StrCat(path, ": not a regular file"));
  }
  unsigned char magic[2] = {0, 0};
  ssize_t got = pread(fd, magic, sizeof(magic), 0);
  bool compressed = got == 2 && magic[0] == 0x1f && magic[1] == 0x8b;

  // zlib reads raw files transparently, so one reader serves both kinds.
  gzFile file = gzdopen(fd, "rb");
  if (file == nullptr) {
    close(fd);
    return absl::ResourceExhaustedError(absl::StrCat(path, ": zlib could not open the file"));
  }
  gzbuffer(file, kZlibBufferBytes);
  return DataFile(path, std::unique_ptr<gzFile_s, GzCloser>(file), compressed,
                  static_cast<uint64_t>(info.st_size));
}

DataFile::DataFile(std::string path, std::unique_ptr<gzFile_s, GzCloser> file, bool compressed,
                   uint64_t disk_size)
    : path_(std::move(path)),
      file_(std::move(file)),
      compressed_(compressed),
      disk_size_(disk_size) {}

DataFile::DataFile(DataFile&&) noexcept = default;
DataFile& DataFile::operator=(DataFile&&) noexcept = default;
DataFile::~DataFile() = default;

absl::StatusOr<size_t> DataFile::ReadSome(void* dst, size_t n, absl::string_view what) {
  unsigned request = static_cast<unsigned>(std::min(n, kChunkBytes));
  int got = gzread(file_.get(), dst, request);
  int error = Z_OK;
  const char* message = gzerror(file_.get(), &error);
  // zlib flags a damaged stream as soon as it decompresses ahead into its
  // buffer, while bytes before the damage are still good to hand out; and it
  // reports a truncated stream as a short read with Z_BUF_ERROR, not as -1.
  // So an error counts once a read comes up short.
  if (got < 0 || (static_cast<unsigned>(got) < request && error != Z_OK)) {
    return absl::DataLossError(
        absl::StrCat(path_, ": ", compressed_ ? "corrupt or truncated gzip stream" : "read error",
                     " while reading ", what, " (zlib: ", WithoutZlibPrefix(message), ")"));
  }
  position_ += static_cast<uint64_t>(got);
  return static_cast<size_t>(got);
}

absl::Status DataFile::ReadExact(void* dst, size_t n, absl::string_view what) {
  auto* out = static_cast<unsigned char*>(dst);
  size_t done = 0;
  while (done < n) {
    absl::StatusOr<size_t> got = ReadSome(out + done, n - done, what);
    if (!got.ok()) return got.status();
    if (*got == 0) {
      if (position_ == 0) {
        return absl::DataLossError(absl::StrCat(path_, ": file is empty, expected ", what));
      }
      return absl::DataLossError(absl::StrCat(path_, ": truncated: ", what, " needs ", n,
                                              " bytes but the file ended after ", done));
    }
    done += *got;
  }
  return absl::OkStatus();
}

absl::Status DataFile::Append(uint64_t n, absl::string_view what, std::vector<uint8_t>* dst) {
  if (!compressed_) {
    uint64_t left = disk_size_ - std::min(disk_size_, position_);
    if (n > left) {
      return absl::DataLossError(absl::StrCat(path_, ": truncated: ", what, " needs ", n,
                                              " bytes but only ", left, " remain in the file"));
    }
    size_t start = dst->size();
    dst->resize(start + n);
    return ReadExact(dst->data() + start, n, what);
  }
  uint64_t done = 0;
  while (done < n) {
    size_t chunk = static_cast<size_t>(std::min<uint64_t>(n - done, kChunkBytes));
    size_t start = dst->size();
    dst->resize(start + chunk);
    size_t filled = 0;
    while (filled < chunk) {
      absl::StatusOr<size_t> got = ReadSome(dst->data() + start + filled, chunk - filled, what);
      if (!got.ok()) return got.status();
      if (*got == 0) {
        return absl::DataLossError(absl::StrCat(path_, ": truncated: ", what, " needs ", n,
                                                " bytes but the file ended after ", done + filled));
      }
      filled += *got;
    }
    done += chunk;
  }
  return absl::OkStatus();
}

absl::Status DataFile::AppendRest(uint64_t max_bytes, std::vector<uint8_t>* dst) {
  if (!compressed_) {
    uint64_t left = disk_size_ - std::min(disk_size_, position_);
    if (left > max_bytes) {
      return absl::InvalidArgumentError(
          absl::StrCat(path_, ": holds ", left, " bytes, more than the limit of ", max_bytes));
    }
    return Append(left, "the file contents", dst);
  }
  uint64_t total = 0;
  while (true) {
    size_t start = dst->size();
    dst->resize(start + kChunkBytes);
    absl::StatusOr<size_t> got = ReadSome(dst->data() + start, kChunkBytes, "the file contents");
    if (!got.ok()) return got.status();
    dst->resize(start + *got);
    if (*got == 0) return absl::OkStatus();
    total += *got;
    if (total > max_bytes) {
      return absl::InvalidArgumentError(
          absl::StrCat(path_, ": decompresses to more than the limit of ", max_bytes, " bytes"));
    }
  }
}

absl::Status DataFile::ExpectEnd() {
  unsigned char extra;
  absl::StatusOr<size_t> got = ReadSome(&extra, 1, "the end of the file");
  if (!got.ok()) return got.status();
  if (*got != 0) {
    return absl::DataLossError(
        absl::StrCat(path_, ": unexpected trailing bytes after the data the header describes"));
  }
  return absl::OkStatus();
}

}  // namespace edgenas
