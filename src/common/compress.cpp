#include "common/compress.hpp"

#include <zdict.h>
#include <zstd.h>

#include <algorithm>
#include <new>
#include <utility>

namespace norreg::common {
namespace {

struct CCtxDeleter {
  void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};
struct DCtxDeleter {
  void operator()(ZSTD_DCtx* d) const { ZSTD_freeDCtx(d); }
};
struct CDictDeleter {
  void operator()(ZSTD_CDict* d) const { ZSTD_freeCDict(d); }
};
struct DDictDeleter {
  void operator()(ZSTD_DDict* d) const { ZSTD_freeDDict(d); }
};

// One working context per thread, shared by every Zstd instance: the dictionary is passed per
// call, so a context carries no state from one call to the next.
// The size of each thread's compression buffer (Zstd::Compress).
constexpr size_t kScratchBytes = 256 * 1024;

ZSTD_CCtx* ThreadCCtx() {
  thread_local std::unique_ptr<ZSTD_CCtx, CCtxDeleter> cctx(ZSTD_createCCtx());
  if (!cctx) throw std::bad_alloc();
  return cctx.get();
}

ZSTD_DCtx* ThreadDCtx() {
  thread_local std::unique_ptr<ZSTD_DCtx, DCtxDeleter> dctx(ZSTD_createDCtx());
  if (!dctx) throw std::bad_alloc();
  return dctx.get();
}

Error Corrupt(std::string_view what, size_t code = 0) {
  std::string detail = "zstd: ";
  detail += what;
  if (code != 0 && ZSTD_isError(code)) {
    detail += ": ";
    detail += ZSTD_getErrorName(code);
  }
  return MakeError(ErrorCode::kInvalidInput, "ugyldige komprimerte data", std::move(detail));
}

// Decompresses frames whose content size is not recorded, growing `out` up to `max_bytes`.
Status DecompressStream(ZSTD_DCtx* dctx, const ZSTD_DDict* ddict, std::string_view in,
                        std::string& out, size_t max_bytes) {
  ZSTD_DCtx_reset(dctx, ZSTD_reset_session_and_parameters);
  if (ddict != nullptr) {
    const size_t r = ZSTD_DCtx_refDDict(dctx, ddict);
    if (ZSTD_isError(r)) return Corrupt("refDDict", r);
  }
  out.clear();
  ZSTD_inBuffer input{in.data(), in.size(), 0};
  size_t produced = 0;
  size_t last = 1;
  Status status;
  while (true) {
    if (produced == out.size()) {
      if (out.size() >= max_bytes) {
        status = Corrupt("output larger than the limit");
        break;
      }
      const size_t grow = out.empty() ? ZSTD_DStreamOutSize() : out.size();
      out.resize(std::min(max_bytes, out.size() + grow));
    }
    ZSTD_outBuffer output{out.data(), out.size(), produced};
    last = ZSTD_decompressStream(dctx, &output, &input);
    produced = output.pos;
    if (ZSTD_isError(last)) {
      status = Corrupt("decompressStream", last);
      break;
    }
    if (input.pos == input.size && produced < out.size()) {
      // All input consumed and the decoder had room to flush: done or truncated.
      if (last != 0) status = Corrupt("truncated frame");
      break;
    }
  }
  ZSTD_DCtx_reset(dctx, ZSTD_reset_session_and_parameters);  // drop the DDict reference
  out.resize(status.ok() ? produced : 0);
  return status;
}

}  // namespace

struct Zstd::Dicts {
  std::unique_ptr<ZSTD_CDict, CDictDeleter> cdict;
  std::unique_ptr<ZSTD_DDict, DDictDeleter> ddict;
};

Zstd::Zstd(std::unique_ptr<Dicts> dicts, uint32_t dict_id, bool has_dict, int level)
    : dicts_(std::move(dicts)), dict_id_(dict_id), has_dict_(has_dict), level_(level) {}
Zstd::Zstd(Zstd&&) noexcept = default;
Zstd& Zstd::operator=(Zstd&&) noexcept = default;
Zstd::~Zstd() = default;

Result<Zstd> Zstd::Create(std::string dictionary, int level) {
  if (level < 1 || level > ZSTD_maxCLevel()) {
    return MakeError(ErrorCode::kInvalidInput, "ugyldig komprimeringsnivå",
                     "zstd level " + std::to_string(level));
  }
  auto dicts = std::make_unique<Dicts>();
  if (dictionary.empty()) return Zstd(std::move(dicts), 0, false, level);

  dicts->cdict.reset(ZSTD_createCDict(dictionary.data(), dictionary.size(), level));
  dicts->ddict.reset(ZSTD_createDDict(dictionary.data(), dictionary.size()));
  if (!dicts->cdict || !dicts->ddict) {
    return MakeError(ErrorCode::kInvalidInput, "ugyldig komprimeringsordbok",
                     "zstd rejected the dictionary");
  }
  const uint32_t id = ZSTD_getDictID_fromDict(dictionary.data(), dictionary.size());
  return Zstd(std::move(dicts), id, true, level);
}

void Zstd::Compress(std::string_view in, std::string& out) const {
  ZSTD_CCtx* cctx = ThreadCCtx();
  const size_t bound = ZSTD_compressBound(in.size());
  // Small inputs go through a per-thread buffer that keeps its size, so that `out` is neither
  // zero-filled to the bound first nor left with the bound as its capacity; a large one is
  // compressed in place rather than kept in every thread's buffer.
  thread_local std::string scratch;
  const bool in_place = bound > kScratchBytes;
  std::string& target = in_place ? out : scratch;
  if (target.size() < bound) target.resize(in_place ? bound : kScratchBytes);
  const size_t n =
      has_dict_ ? ZSTD_compress_usingCDict(cctx, target.data(), bound, in.data(), in.size(),
                                           dicts_->cdict.get())
                : ZSTD_compressCCtx(cctx, target.data(), bound, in.data(), in.size(), level_);
  // With a bound-sized buffer the only possible failure is memory.
  if (ZSTD_isError(n)) throw std::bad_alloc();
  if (in_place) {
    out.resize(n);
  } else {
    out.assign(scratch.data(), n);
  }
}

Status Zstd::Decompress(std::string_view in, std::string& out, size_t max_bytes) const {
  const unsigned long long size = ZSTD_getFrameContentSize(in.data(), in.size());
  if (size == ZSTD_CONTENTSIZE_ERROR) {
    out.clear();
    return Corrupt("not a zstd frame");
  }
  const uint32_t frame_dict = ZSTD_getDictID_fromFrame(in.data(), in.size());
  const ZSTD_DDict* ddict = nullptr;
  if (frame_dict != 0) {
    if (!has_dict_ || frame_dict != dict_id_) {
      out.clear();
      return Corrupt("frame needs dictionary " + std::to_string(frame_dict));
    }
    ddict = dicts_->ddict.get();
  } else if (has_dict_ && dict_id_ == 0) {
    // A raw-content dictionary leaves no id in the frame. Its frames need it; frames made
    // without it decode the same with it present (raw content carries no entropy tables).
    ddict = dicts_->ddict.get();
  }

  ZSTD_DCtx* dctx = ThreadDCtx();
  if (size == ZSTD_CONTENTSIZE_UNKNOWN) return DecompressStream(dctx, ddict, in, out, max_bytes);
  if (size > max_bytes) {
    out.clear();
    return Corrupt("output larger than the limit");
  }
  out.resize(static_cast<size_t>(size));
  const size_t n =
      ddict != nullptr
          ? ZSTD_decompress_usingDDict(dctx, out.data(), out.size(), in.data(), in.size(), ddict)
          : ZSTD_decompressDCtx(dctx, out.data(), out.size(), in.data(), in.size());
  if (ZSTD_isError(n) || n != size) {
    out.clear();
    return Corrupt("decompress", n);
  }
  return Status::Ok();
}

Result<std::string> Zstd::TrainDictionary(const std::vector<std::string>& samples,
                                          size_t dict_bytes) {
  if (samples.empty() || dict_bytes < 256) {
    return MakeError(ErrorCode::kInvalidInput, "for lite data til å lage ordbok",
                     "zstd dictionary training needs samples and at least 256 bytes");
  }
  std::string joined;
  std::vector<size_t> sizes;
  sizes.reserve(samples.size());
  size_t total = 0;
  for (const std::string& s : samples) total += s.size();
  joined.reserve(total);
  for (const std::string& s : samples) {
    joined += s;
    sizes.push_back(s.size());
  }
  std::string dict(dict_bytes, '\0');
  const size_t n = ZDICT_trainFromBuffer(dict.data(), dict.size(), joined.data(), sizes.data(),
                                         static_cast<unsigned>(sizes.size()));
  if (ZDICT_isError(n)) {
    return MakeError(ErrorCode::kInvalidInput, "for lite data til å lage ordbok",
                     std::string("ZDICT_trainFromBuffer: ") + ZDICT_getErrorName(n));
  }
  dict.resize(n);
  return dict;
}

}  // namespace norreg::common
