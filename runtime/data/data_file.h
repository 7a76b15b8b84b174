// DataFile: a dataset file read front to back, gzip-compressed or raw.
//
// Dataset headers come from files we did not write, so nothing here trusts
// a size it has not seen on disk: a raw file reports its real size before a
// caller allocates, and a compressed file grows its output only as bytes
// actually arrive, so a forged header cannot make us allocate gigabytes.
// Every error names the file and what was being read.
#ifndef EDGENAS_RUNTIME_DATA_DATA_FILE_H_
#define EDGENAS_RUNTIME_DATA_DATA_FILE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

struct gzFile_s;

namespace edgenas {

class DataFile {
 public:
  // Opens `path` for reading. Compression is detected from the gzip magic
  // (1f 8b), not from the name. NotFound if the file does not exist,
  // InvalidArgument if it is not a regular file.
  static absl::StatusOr<DataFile> Open(const std::string& path);

  DataFile(DataFile&&) noexcept;
  DataFile& operator=(DataFile&&) noexcept;
  ~DataFile();

  const std::string& path() const { return path_; }
  bool compressed() const { return compressed_; }
  // Bytes on disk. For a raw file this is the content size.
  uint64_t disk_size() const { return disk_size_; }
  // Content bytes consumed so far.
  uint64_t position() const { return position_; }

  // Reads exactly `n` bytes into `dst`. DataLoss naming `what` if the file
  // ends first or the compressed stream is corrupt.
  absl::Status ReadExact(void* dst, size_t n, absl::string_view what);

  // Appends exactly `n` bytes to `*dst`. For a raw file `n` is checked
  // against the bytes left on disk before anything is allocated; for a
  // compressed file `*dst` grows chunk by chunk as data decompresses.
  absl::Status Append(uint64_t n, absl::string_view what, std::vector<uint8_t>* dst);

  // Appends everything up to the end of the file, failing with
  // InvalidArgument once more than `max_bytes` would be read.
  absl::Status AppendRest(uint64_t max_bytes, std::vector<uint8_t>* dst);

  // DataLoss if any content remains: trailing bytes mean the header and the
  // data disagree, which we would rather report than silently ignore.
  absl::Status ExpectEnd();

 private:
  struct GzCloser {
    void operator()(gzFile_s* file) const;
  };

  DataFile(std::string path, std::unique_ptr<gzFile_s, GzCloser> file, bool compressed,
           uint64_t disk_size);

  // Reads up to `n` bytes; returns how many arrived (0 at the end), or an
  // error if zlib reports one.
  absl::StatusOr<size_t> ReadSome(void* dst, size_t n, absl::string_view what);

  std::string path_;
  std::unique_ptr<gzFile_s, GzCloser> file_;
  bool compressed_ = false;
  uint64_t disk_size_ = 0;
  uint64_t position_ = 0;
};

}  // namespace edgenas

#endif  // EDGENAS_RUNTIME_DATA_DATA_FILE_H_
