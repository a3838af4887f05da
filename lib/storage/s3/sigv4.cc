// SPDX-License-Identifier: Apache-2.0
#include "storage/s3/sigv4.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <ctime>

#include "storage/s3/uri_encode.h"

namespace ocireg::internal::s3 {

namespace {

using Mac = std::array<unsigned char, 32>;

std::string Hex(const unsigned char* bytes, size_t size) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * size);
  for (size_t i = 0; i < size; ++i) {
    out += kHex[bytes[i] >> 4];
    out += kHex[bytes[i] & 0xf];
  }
  return out;
}

Mac Hmac(const unsigned char* key, size_t key_size, std::string_view data) {
  Mac mac{};
  unsigned int size = 0;
  HMAC(EVP_sha256(), key, static_cast<int>(key_size),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac.data(), &size);
  return mac;
}

Mac Hmac(const Mac& key, std::string_view data) { return Hmac(key.data(), key.size(), data); }

// kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), "s3"), "aws4_request").
// Every intermediate key is wiped once used.
Mac SigningKey(std::string_view secret, std::string_view date, std::string_view region) {
  std::string first = "AWS4";
  first += secret;
  Mac key = Hmac(reinterpret_cast<const unsigned char*>(first.data()), first.size(), date);
  OPENSSL_cleanse(first.data(), first.size());
  for (std::string_view step : {region, std::string_view("s3"), std::string_view("aws4_request")}) {
    Mac next = Hmac(key, step);
    OPENSSL_cleanse(key.data(), key.size());
    key = next;
    OPENSSL_cleanse(next.data(), next.size());
  }
  return key;
}

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// A header value as signed: spaces trimmed at both ends and runs of spaces inside made one.
std::string TrimmedValue(std::string_view value) {
  std::string out;
  bool pending_space = false;
  for (char c : value) {
    if (c == ' ' || c == '\t') {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out += ' ';
    pending_space = false;
    out += c;
  }
  return out;
}

std::vector<HeaderField> CanonicalHeaders(const std::vector<HeaderField>& headers) {
  std::vector<HeaderField> out;
  out.reserve(headers.size());
  for (const auto& [name, value] : headers) out.emplace_back(Lower(name), TrimmedValue(value));
  std::sort(out.begin(), out.end());
  return out;
}

std::string SignedHeaderNames(const std::vector<HeaderField>& canonical) {
  std::string names;
  for (const auto& header : canonical) {
    if (!names.empty()) names += ';';
    names += header.first;
  }
  return names;
}

std::string Scope(std::string_view amz_date, std::string_view region) {
  std::string scope(amz_date.substr(0, 8));
  scope += '/';
  scope += region;
  scope += "/s3/aws4_request";
  return scope;
}

}  // namespace

std::string CanonicalQuery(std::vector<QueryParam> params) {
  for (auto& [name, value] : params) {
    name = UriEncode(name, Slash::kEncode);
    value = UriEncode(value, Slash::kEncode);
  }
  std::sort(params.begin(), params.end());
  std::string query;
  for (const auto& [name, value] : params) {
    if (!query.empty()) query += '&';
    query += name;
    query += '=';
    query += value;
  }
  return query;
}

std::string AmzDate(std::chrono::system_clock::time_point time) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(time);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  std::array<char, 32> text{};
  const size_t size = std::strftime(text.data(), text.size(), "%Y%m%dT%H%M%SZ", &utc);
  return std::string(text.data(), size);
}

std::string Sha256Hex(std::string_view data) {
  std::array<unsigned char, SHA256_DIGEST_LENGTH> digest{};
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest.data());
  return Hex(digest.data(), digest.size());
}

std::string CanonicalRequest(const SigV4Request& request) {
  const std::vector<HeaderField> headers = CanonicalHeaders(request.headers);
  std::string text(request.method);
  text += '\n';
  text += request.path;
  text += '\n';
  text += request.query;
  text += '\n';
  for (const auto& [name, value] : headers) {
    text += name;
    text += ':';
    text += value;
    text += '\n';
  }
  text += '\n';
  text += SignedHeaderNames(headers);
  text += '\n';
  text += request.payload_hash;
  return text;
}

std::string StringToSign(std::string_view amz_date, std::string_view region,
                         std::string_view canonical_request) {
  std::string text = "AWS4-HMAC-SHA256\n";
  text += amz_date;
  text += '\n';
  text += Scope(amz_date, region);
  text += '\n';
  text += Sha256Hex(canonical_request);
  return text;
}

std::string Signature(const S3Credentials& credentials, std::string_view region,
                      std::string_view amz_date, const SigV4Request& request) {
  Mac key = SigningKey(credentials.secret_access_key, amz_date.substr(0, 8), region);
  const Mac signature = Hmac(key, StringToSign(amz_date, region, CanonicalRequest(request)));
  OPENSSL_cleanse(key.data(), key.size());
  return Hex(signature.data(), signature.size());
}

std::string SigV4Authorization(const S3Credentials& credentials, std::string_view region,
                               std::string_view amz_date, const SigV4Request& request) {
  std::string value = "AWS4-HMAC-SHA256 Credential=";
  value += credentials.access_key_id;
  value += '/';
  value += Scope(amz_date, region);
  value += ",SignedHeaders=";
  value += SignedHeaderNames(CanonicalHeaders(request.headers));
  value += ",Signature=";
  value += Signature(credentials, region, amz_date, request);
  return value;
}

}  // namespace ocireg::internal::s3
