#pragma once
// Result<T>: expected failures are values (not found, invalid input, conflict, ...). Exceptions
// are reserved for errors that terminate. The HTTP edge maps ErrorCode to a status and to each
// API's error body in one table (http/error_mapping.hpp).
#include <string>
#include <utility>
#include <variant>

namespace norreg {

enum class ErrorCode {
  kInvalidInput,     // 400: the request is malformed; message says what
  kUnauthenticated,  // 401
  kForbidden,        // 403
  kNotFound,         // 404
  kNotAcceptable,    // 406: unsupported Accept or unknown `part`
  kConflict,         // 409 / API-specific (e.g. optimistic lock)
  kGone,             // 410
  kTooLarge,         // 413
  kUnsupportedMedia, // 415
  kRateLimited,      // 429
  kNotReady,         // 404 on extract batches that are still being computed
  kInternal,         // 500: the message is for the log only
};

// An error value: `code` drives the status, `message` is safe to show to the client,
// `detail` is for the log only (SQL text, paths) and never reaches a response.
struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;
  std::string detail;
};

inline Error MakeError(ErrorCode code, std::string message, std::string detail = {}) {
  return Error{code, std::move(message), std::move(detail)};
}

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  const Error& error() const { return std::get<1>(v_); }
  Error& error() { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

// Result<void> equivalent.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT(google-explicit-constructor)
  static Status Ok() { return {}; }
  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { return error_; }

 private:
  Error error_;
  bool ok_ = true;
};

}  // namespace norreg
