#include "args.h"

#include "addon_data.h"

#include <cmath>
#include <sstream>

namespace cellscan::js {
namespace {

std::string typedArrayName(napi_typedarray_type t) {
  switch (t) {
    case napi_int8_array: return "Int8Array";
    case napi_uint8_array: return "Uint8Array";
    case napi_uint8_clamped_array: return "Uint8ClampedArray";
    case napi_int16_array: return "Int16Array";
    case napi_uint16_array: return "Uint16Array";
    case napi_int32_array: return "Int32Array";
    case napi_uint32_array: return "Uint32Array";
    case napi_float32_array: return "Float32Array";
    case napi_float64_array: return "Float64Array";
    case napi_bigint64_array: return "BigInt64Array";
    case napi_biguint64_array: return "BigUint64Array";
    default: return "TypedArray";
  }
}

std::string message(const char* where, const std::string& arg, const std::string& expected, const std::string& given) {
  return std::string(where) + ": " + arg + " must be " + expected + ", got " + given;
}

}  // namespace

std::string describe(const Napi::Value& v) {
  if (v.IsUndefined()) return "undefined";
  if (v.IsNull()) return "null";
  if (v.IsBoolean()) return v.As<Napi::Boolean>().Value() ? "true" : "false";
  // As JavaScript writes the number (NaN, Infinity, every digit), like the TypeScript checks.
  if (v.IsNumber()) return v.ToString().Utf8Value();
  if (v.IsString()) return "\"" + v.As<Napi::String>().Utf8Value() + "\"";
  if (v.IsTypedArray()) {
    Napi::TypedArray a = v.As<Napi::TypedArray>();
    return typedArrayName(a.TypedArrayType()) + "(" + std::to_string(a.ElementLength()) + ")";
  }
  if (v.IsArray()) return "an array";
  if (v.IsFunction()) return "a function";
  return "an object";
}

void throwTypeError(Napi::Env env, const char* where, const std::string& arg, const std::string& expected,
                    const Napi::Value& given) {
  throw Napi::TypeError::New(env, message(where, arg, expected, describe(given)));
}

void throwRangeError(Napi::Env env, const char* where, const std::string& arg, const std::string& expected,
                     const std::string& given) {
  throw Napi::RangeError::New(env, message(where, arg, expected, given));
}

bool isAbsent(const Napi::Value& v) { return v.IsUndefined() || v.IsNull(); }

Napi::Object requireObject(const Napi::CallbackInfo& info, size_t index, const char* where, const char* arg) {
  Napi::Value v = info[index];
  if (!v.IsObject() || v.IsArray() || v.IsTypedArray() || v.IsFunction()) {
    throwTypeError(info.Env(), where, arg, "an object", v);
  }
  return v.As<Napi::Object>();
}

// Messages are built only on the failure path: a streaming call (one step, batch 1) should not
// allocate for arguments that are fine.
long getInteger(const Napi::Value& v, const char* key, const char* where, long min, long max) {
  const auto range = [&] { return "an integer in " + std::to_string(min) + ".." + std::to_string(max); };
  if (!v.IsNumber()) throwTypeError(v.Env(), where, key, range(), v);
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d) || std::floor(d) != d || d < static_cast<double>(min) || d > static_cast<double>(max)) {
    throwRangeError(v.Env(), where, key, range(), describe(v));
  }
  return static_cast<long>(d);
}

long getInteger(const Napi::Value& v, const char* key, const char* where, long min, long max, long fallback) {
  if (isAbsent(v)) return fallback;
  return getInteger(v, key, where, min, max);
}

bool getBoolean(const Napi::Value& v, const char* key, const char* where, bool fallback) {
  if (v.IsUndefined()) return fallback;
  if (!v.IsBoolean()) throwTypeError(v.Env(), where, key, "a boolean", v);
  return v.As<Napi::Boolean>().Value();
}

std::string getString(const Napi::Value& v, const char* key, const char* where) {
  if (!v.IsString()) throwTypeError(v.Env(), where, key, "a string", v);
  return v.As<Napi::String>().Utf8Value();
}

Span<float> getFloat32(const Napi::Value& v, const char* key, const char* where, size_t length, bool optional,
                       bool atLeast) {
  const auto expected = [&] {
    return std::string("a Float32Array of ") + (atLeast ? "at least " : "") + std::to_string(length) + " elements";
  };
  if (optional && isAbsent(v)) return {};
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    throwTypeError(v.Env(), where, key, optional ? expected() + " or undefined" : expected(), v);
  }
  Napi::Float32Array a = v.As<Napi::Float32Array>();
  const size_t n = a.ElementLength();
  if (atLeast ? n < length : n != length) throwRangeError(v.Env(), where, key, expected(), describe(v));
  return {a.Data(), n};
}

void requireAbsent(const Napi::Value& v, const char* key, const char* where, const char* because) {
  if (!isAbsent(v)) throwTypeError(v.Env(), where, key, std::string("undefined (") + because + ")", v);
}

Span<int32_t> getInt32(const Napi::Value& v, const char* key, const char* where, size_t length, bool optional) {
  const auto expected = [&] { return "an Int32Array of " + std::to_string(length) + " elements"; };
  if (optional && isAbsent(v)) return {};
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
    throwTypeError(v.Env(), where, key, optional ? expected() + " or undefined" : expected(), v);
  }
  Napi::Int32Array a = v.As<Napi::Int32Array>();
  if (a.ElementLength() != length) throwRangeError(v.Env(), where, key, expected(), describe(v));
  return {a.Data(), a.ElementLength()};
}

Span<uint8_t> getMask(const Napi::Value& v, const char* key, const char* where, size_t length) {
  const auto expected = [&] { return "a Uint8Array of " + std::to_string(length) + " elements (0 or 1 each)"; };
  if (isAbsent(v)) return {};
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    throwTypeError(v.Env(), where, key, expected() + " or undefined", v);
  }
  Napi::Uint8Array a = v.As<Napi::Uint8Array>();
  if (a.ElementLength() != length) throwRangeError(v.Env(), where, key, expected(), describe(v));
  return {a.Data(), length};
}

double getNumber(const Napi::Value& v, const char* key, const char* where, double min, double max, double fallback) {
  if (isAbsent(v)) return fallback;
  const auto range = [&] {
    std::ostringstream s;
    s << "a number in [" << min << ", " << max << "]";
    return s.str();
  };
  if (!v.IsNumber()) throwTypeError(v.Env(), where, key, range(), v);
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= min && d <= max)) throwRangeError(v.Env(), where, key, range(), describe(v));
  return d;
}

}  // namespace cellscan::js
