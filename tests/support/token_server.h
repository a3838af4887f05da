// SPDX-License-Identifier: Apache-2.0
// TokenServer: a Docker token endpoint for tests, in front of a Distribution configured for token
// auth. It checks Basic credentials and issues JWTs signed with ES256 (an ECDSA P-256 key it
// makes with OpenSSL), whose header carries its self-signed certificate (x5c), the certificate
// distribution is given as its rootcertbundle.
//
//   ocireg::testing::TokenServer tokens(dir.path(), "alice", "secret");
//   ocireg::testing::Distribution registry({.token_realm = tokens.realm(),
//       .token_service = TokenServer::kService, .token_issuer = TokenServer::kIssuer,
//       .token_certificate = tokens.certificate()});
//   tokens.requests();                    // token requests answered so far
//   tokens.Mint({"repository:a/b:pull,push"});  // a token to push with, without HTTP
//
// The claims are what distribution 2.8 checks: iss, aud (the service), exp, nbf and iat, and an
// access list of {type, name, actions}. A user with the right password gets every action asked
// for; anyone else gets 401, as does an anonymous request (unless allow_anonymous, which grants
// nothing). Tokens live expires_in seconds (default 300); issue_expired() makes the next tokens
// already expired for the registry (exp long past, beyond its 60 s leeway) while the answer still
// says expires_in, so that a client only learns of it from the registry's 401.
//
// An httplib server on 127.0.0.1 on a thread of its own; the destructor stops and joins it.
// Thread-safe counters and settings.
#pragma once

#include <httplib.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "process.h"

namespace ocireg::testing {

class TokenServer {
 public:
  static constexpr const char* kService = "ocireg-test-registry";
  static constexpr const char* kIssuer = "ocireg-test-token-issuer";

  TokenServer(const std::filesystem::path& dir, std::string user, std::string password)
      : user_(std::move(user)), password_(std::move(password)) {
    MakeKeyAndCertificate(dir / "token-signer.pem");
    server_.Get("/token", [this](const httplib::Request& request, httplib::Response& response) {
      Answer(request, response);
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    if (port_ <= 0) throw std::runtime_error("token server: cannot bind 127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    for (int i = 0; i < 500 && !server_.is_running(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (!server_.is_running()) throw std::runtime_error("token server did not start");
  }
  ~TokenServer() {
    server_.stop();
    thread_.join();
  }
  TokenServer(const TokenServer&) = delete;
  TokenServer& operator=(const TokenServer&) = delete;

  std::string realm() const { return "http://127.0.0.1:" + std::to_string(port_) + "/token"; }
  const std::filesystem::path& certificate() const { return certificate_; }
  int requests() const { return requests_.load(); }
  void set_expires_in(int seconds) { expires_in_.store(seconds); }
  void issue_expired(bool expired) { issue_expired_.store(expired); }
  void allow_anonymous(bool allow) { allow_anonymous_.store(allow); }

  // A token granting `scopes` ("repository:NAME:ACTION,ACTION", as in a token request).
  std::string Mint(const std::vector<std::string>& scopes, const std::string& subject = "tests") {
    return Sign(Claims(scopes, subject));
  }

 private:
  struct KeyFree {
    void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
  };

  static std::string Base64(const unsigned char* data, size_t size, bool url) {
    static constexpr char kStd[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    static constexpr char kUrl[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const char* alphabet = url ? kUrl : kStd;
    std::string out;
    size_t i = 0;
    for (; i + 3 <= size; i += 3) {
      const uint32_t v = (uint32_t{data[i]} << 16) | (uint32_t{data[i + 1]} << 8) | data[i + 2];
      for (const int shift : {18, 12, 6, 0}) out += alphabet[(v >> shift) & 63];
    }
    if (const size_t left = size - i; left > 0) {
      uint32_t v = uint32_t{data[i]} << 16;
      if (left == 2) v |= uint32_t{data[i + 1]} << 8;
      out += alphabet[(v >> 18) & 63];
      out += alphabet[(v >> 12) & 63];
      if (left == 2) out += alphabet[(v >> 6) & 63];
      if (!url) out += left == 2 ? "=" : "==";
    }
    return out;
  }
  static std::string Base64Url(const std::string& text) {
    return Base64(reinterpret_cast<const unsigned char*>(text.data()), text.size(), true);
  }

  void MakeKeyAndCertificate(const std::filesystem::path& pem) {
    key_.reset(EVP_EC_gen("P-256"));
    if (!key_) throw std::runtime_error("token server: EVP_EC_gen failed");
    X509* cert = X509_new();
    X509_set_version(cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert), 86400);
    X509_set_pubkey(cert, key_.get());
    X509_NAME* name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("ocireg test token signer"),
                               -1, -1, 0);
    X509_set_issuer_name(cert, name);
    const bool signed_ok = X509_sign(cert, key_.get(), EVP_sha256()) > 0;
    unsigned char* der = nullptr;
    const int der_size = i2d_X509(cert, &der);
    FILE* file = fopen(pem.c_str(), "w");
    const bool written = file != nullptr && PEM_write_X509(file, cert) == 1;
    if (file != nullptr) fclose(file);
    X509_free(cert);
    if (!signed_ok || der_size <= 0 || !written) {
      OPENSSL_free(der);
      throw std::runtime_error("token server: cannot make its certificate");
    }
    certificate_der_b64_ = Base64(der, static_cast<size_t>(der_size), false);
    OPENSSL_free(der);
    certificate_ = pem;
  }

  std::string Claims(const std::vector<std::string>& scopes, const std::string& subject) const {
    const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    const bool expired = issue_expired_.load();
    const int64_t issued = expired ? now - 600 : now - 5;
    const int64_t expires = expired ? now - 300 : now + expires_in_.load();
    std::string access = "[";
    for (const std::string& scope : scopes) {
      // type:name:actions, where the name may hold ':' (a port) but the actions never do.
      const size_t first = scope.find(':');
      const size_t last = scope.rfind(':');
      if (first == std::string::npos || last == first) continue;
      std::string actions = "[";
      std::string list = scope.substr(last + 1);
      for (size_t start = 0; start <= list.size();) {
        const size_t comma = std::min(list.find(',', start), list.size());
        if (comma > start) {
          if (actions.size() > 1) actions += ",";
          actions += "\"" + list.substr(start, comma - start) + "\"";
        }
        start = comma + 1;
      }
      actions += "]";
      if (access.size() > 1) access += ",";
      access += R"({"type":")" + scope.substr(0, first) + R"(","name":")" +
                scope.substr(first + 1, last - first - 1) + R"(","actions":)" + actions + "}";
    }
    access += "]";
    return R"({"iss":")" + std::string(kIssuer) + R"(","sub":")" + subject + R"(","aud":")" +
           kService + R"(","exp":)" + std::to_string(expires) + R"(,"nbf":)" +
           std::to_string(issued) + R"(,"iat":)" + std::to_string(issued) + R"(,"jti":"t)" +
           std::to_string(serial_.fetch_add(1)) + R"(","access":)" + access + "}";
  }

  // A JWS in compact form, ES256: the signature is r || s, 32 bytes each.
  std::string Sign(const std::string& claims) const {
    const std::string header =
        R"({"typ":"JWT","alg":"ES256","x5c":[")" + certificate_der_b64_ + R"("]})";
    const std::string input = Base64Url(header) + "." + Base64Url(claims);
    EVP_MD_CTX* context = EVP_MD_CTX_new();
    size_t size = 0;
    std::vector<unsigned char> der;
    bool ok =
        EVP_DigestSignInit(context, nullptr, EVP_sha256(), nullptr, key_.get()) == 1 &&
        EVP_DigestSign(context, nullptr, &size,
                       reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1;
    if (ok) {
      der.resize(size);
      ok = EVP_DigestSign(context, der.data(), &size,
                          reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1;
    }
    EVP_MD_CTX_free(context);
    if (!ok) throw std::runtime_error("token server: signing failed");
    const unsigned char* cursor = der.data();
    ECDSA_SIG* signature = d2i_ECDSA_SIG(nullptr, &cursor, static_cast<long>(size));
    if (signature == nullptr) throw std::runtime_error("token server: bad ECDSA signature");
    unsigned char raw[64];
    BN_bn2binpad(ECDSA_SIG_get0_r(signature), raw, 32);
    BN_bn2binpad(ECDSA_SIG_get0_s(signature), raw + 32, 32);
    ECDSA_SIG_free(signature);
    return input + "." + Base64(raw, sizeof(raw), true);
  }

  void Answer(const httplib::Request& request, httplib::Response& response) {
    ++requests_;
    const std::string expected =
        "Basic " + Base64(reinterpret_cast<const unsigned char*>((user_ + ":" + password_).data()),
                          user_.size() + 1 + password_.size(), false);
    const bool anonymous = !request.has_header("Authorization");
    const bool known = !anonymous && request.get_header_value("Authorization") == expected;
    if (!known && !(anonymous && allow_anonymous_.load())) {
      response.status = 401;
      response.set_header("WWW-Authenticate", "Basic realm=\"ocireg-test-token\"");
      response.set_content(R"({"details":"wrong credentials"})", "application/json");
      return;
    }
    if (request.get_param_value("service") != kService) {
      response.status = 400;
      return;
    }
    std::vector<std::string> scopes;
    if (known) {
      const size_t count = request.get_param_value_count("scope");
      for (size_t i = 0; i < count; ++i) scopes.push_back(request.get_param_value("scope", i));
    }
    const std::string token = Sign(Claims(scopes, known ? user_ : "anonymous"));
    response.set_content(R"({"token":")" + token + R"(","access_token":")" + token +
                             R"(","expires_in":)" + std::to_string(expires_in_.load()) + "}",
                         "application/json");
  }

  std::string user_;
  std::string password_;
  std::unique_ptr<EVP_PKEY, KeyFree> key_;
  std::string certificate_der_b64_;
  std::filesystem::path certificate_;
  std::atomic<int> requests_{0};
  std::atomic<int> expires_in_{300};
  std::atomic<bool> issue_expired_{false};
  std::atomic<bool> allow_anonymous_{false};
  mutable std::atomic<int> serial_{0};
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
};

}  // namespace ocireg::testing
