#pragma once
// Reading JS arguments into plain C++ values. Every check throws a TypeError or RangeError whose
// message names the function, the argument, what was expected and what was given, so that the
// addon is as safe to call directly as through the TypeScript facade.
#include <napi.h>

#include <cstddef>
#include <string>

#include "addon_data.h"

namespace cellscan::js {

template <class T>
struct Span {
  T* data = nullptr;  // null when an optional argument was absent
  size_t length = 0;
};

std::string describe(const Napi::Value& v);
[[noreturn]] void throwTypeError(Napi::Env env, const char* where, const std::string& arg, const std::string& expected,
                                 const Napi::Value& given);
[[noreturn]] void throwRangeError(Napi::Env env, const char* where, const std::string& arg,
                                  const std::string& expected, const std::string& given);

Napi::Object requireObject(const Napi::CallbackInfo& info, size_t index, const char* where, const char* arg);
bool isAbsent(const Napi::Value& v);

// Each check takes the value and the name it goes by in messages; the overloads on an object read
// o[key] first.

// An integer in [min, max].
long getInteger(const Napi::Value& v, const char* key, const char* where, long min, long max);
long getInteger(const Napi::Value& v, const char* key, const char* where, long min, long max, long fallback);
bool getBoolean(const Napi::Value& v, const char* key, const char* where, bool fallback);
std::string getString(const Napi::Value& v, const char* key, const char* where);

// A Float32Array of exactly `length` elements (or at least, with `atLeast`); absent is allowed
// only when `optional` (then data is null).
Span<float> getFloat32(const Napi::Value& v, const char* key, const char* where, size_t length, bool optional,
                       bool atLeast = false);
// Must be absent: the argument does not apply to this layer (say why).
void requireAbsent(const Napi::Value& v, const char* key, const char* where, const char* because);
Span<int32_t> getInt32(const Napi::Value& v, const char* key, const char* where, size_t length, bool optional);
// A Uint8Array of exactly `length` elements, or absent (data null). Its values (0 or 1: a zoneout
// mask) are used as they are; any byte is memory-safe.
Span<uint8_t> getMask(const Napi::Value& v, const char* key, const char* where, size_t length);
// A number in [min, max] (NaN refused), or the fallback when absent.
double getNumber(const Napi::Value& v, const char* key, const char* where, double min, double max, double fallback);

inline long getInteger(const Napi::Object& o, const char* key, const char* where, long min, long max) {
  return getInteger(property(o, key), key, where, min, max);
}
inline long getInteger(const Napi::Object& o, const char* key, const char* where, long min, long max, long fallback) {
  return getInteger(property(o, key), key, where, min, max, fallback);
}
inline bool getBoolean(const Napi::Object& o, const char* key, const char* where, bool fallback) {
  return getBoolean(property(o, key), key, where, fallback);
}
inline std::string getString(const Napi::Object& o, const char* key, const char* where) {
  return getString(property(o, key), key, where);
}
inline Span<float> getFloat32(const Napi::Object& o, const char* key, const char* where, size_t length, bool optional,
                              bool atLeast = false) {
  return getFloat32(property(o, key), key, where, length, optional, atLeast);
}
inline void requireAbsent(const Napi::Object& o, const char* key, const char* where, const char* because) {
  requireAbsent(property(o, key), key, where, because);
}
inline Span<int32_t> getInt32(const Napi::Object& o, const char* key, const char* where, size_t length, bool optional) {
  return getInt32(property(o, key), key, where, length, optional);
}

}  // namespace cellscan::js
