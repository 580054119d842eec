#pragma once
// A small zstd wrapper for stored documents: compress/decompress with an optional trained
// dictionary. The dictionary is digested once (ZSTD_CDict/ZSTD_DDict); the per-call working
// contexts are thread_local, so one Zstd may be used from any number of threads at once and a
// call allocates nothing beyond the output string.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace norreg::common {

class Zstd {
 public:
  // Output limit of Decompress unless the caller gives one: corrupt or hostile input cannot make
  // it allocate more than this.
  static constexpr size_t kDefaultMaxDecompressed = size_t{256} << 20;  // 256 MiB

  // `dictionary` may be empty (no dictionary): a zstd dictionary as made by TrainDictionary, or any
  // other bytes used as raw content. `level` is the zstd level (1..19; default 3). Fails with
  // kInvalidInput for a level out of range or a dictionary zstd rejects.
  static Result<Zstd> Create(std::string dictionary, int level = 3);

  Zstd(Zstd&&) noexcept;
  Zstd& operator=(Zstd&&) noexcept;
  ~Zstd();

  // Replaces `out` with one zstd frame of `in` (with the dictionary if there is one; the frame
  // records the dictionary id and the content size). Thread-safe. Throws std::bad_alloc only when
  // memory runs out (a terminating error).
  void Compress(std::string_view in, std::string& out) const;

  // Replaces `out` with the content of the zstd frame `in`, made with this dictionary or with none.
  // Errors are values: kInvalidInput when `in` is not a valid frame, is corrupt, needs another
  // dictionary, or would decompress to more than `max_bytes`. Never crashes on any input.
  // Thread-safe.
  Status Decompress(std::string_view in, std::string& out,
                    size_t max_bytes = kDefaultMaxDecompressed) const;

  // Trains a dictionary of at most `dict_bytes` from `samples` (ZDICT_trainFromBuffer). Needs a
  // fair number of samples (hundreds, a few times dict_bytes in total); fails with kInvalidInput
  // when there are too few or zstd cannot train.
  static Result<std::string> TrainDictionary(const std::vector<std::string>& samples,
                                             size_t dict_bytes = 64 * 1024);

  // The dictionary id written into frames (0 without dictionary or for a raw-content one).
  uint32_t DictionaryId() const { return dict_id_; }
  bool HasDictionary() const { return has_dict_; }
  int level() const { return level_; }

 private:
  struct Dicts;
  Zstd(std::unique_ptr<Dicts> dicts, uint32_t dict_id, bool has_dict, int level);

  std::unique_ptr<Dicts> dicts_;
  uint32_t dict_id_ = 0;
  bool has_dict_ = false;
  int level_ = 3;
};

}  // namespace norreg::common
