// SPDX-License-Identifier: Apache-2.0
// ConfigureTls: checks the files of config.tls one by one, so each mistake gets its own message.
#include "tls_context.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

namespace ocireg::internal {
namespace {

// TLS 1.2 suites: ECDHE key exchange (forward secrecy) and AEAD ciphers only; no RSA key
// exchange, no CBC with SHA-1. ECDSA and RSA certificates both work.
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

// Sessions (TLS 1.2 ids and TLS 1.3 tickets) may only be resumed by the context that made them.
// OpenSSL refuses to resume a session with peer verification on unless this is set, and it does
// so with an internal-error alert that clients treat as fatal.
constexpr std::string_view kSessionContext = "ocireg";

// The oldest error OpenSSL queued, and clears the queue.
std::string OpenSslError() {
  const unsigned long code = ERR_peek_error();
  ERR_clear_error();
  if (code == 0) return "unknown OpenSSL error";
  char text[256];
  ERR_error_string_n(code, text, sizeof(text));
  return text;
}

Status Problem(std::string_view key, const std::string& path, const std::string& what) {
  return {ErrorCode::kInvalidArgument, "tls." + std::string(key) + ": " + path + ": " + what};
}

// Readable at all? OpenSSL's own message for a missing file is obscure.
Status CheckReadable(std::string_view key, const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr)
    return Problem(key, path, std::string("cannot read: ") + std::strerror(errno));
  std::fclose(file);
  return Status::Ok();
}

}  // namespace

Status ConfigureTls(ssl_ctx_st& context, const TlsConfig& tls) {
  ERR_clear_error();
  SSL_CTX_set_min_proto_version(&context, TLS1_2_VERSION);
  SSL_CTX_set_options(&context, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  if (SSL_CTX_set_cipher_list(&context, kTls12Ciphers) != 1) {
    return {ErrorCode::kInternal, "cannot set the TLS 1.2 cipher suites: " + OpenSslError()};
  }
  if (SSL_CTX_set_session_id_context(&context,
                                     reinterpret_cast<const unsigned char*>(kSessionContext.data()),
                                     static_cast<unsigned int>(kSessionContext.size())) != 1) {
    return {ErrorCode::kInternal, "cannot set the TLS session context: " + OpenSslError()};
  }
  OCIREG_RETURN_IF_ERROR(CheckReadable("certificate", tls.certificate));
  if (SSL_CTX_use_certificate_chain_file(&context, tls.certificate.c_str()) != 1) {
    return Problem("certificate", tls.certificate,
                   "not a PEM certificate chain: " + OpenSslError());
  }
  OCIREG_RETURN_IF_ERROR(CheckReadable("private_key", tls.private_key));
  const Status mismatch = Problem("private_key", tls.private_key,
                                  "does not match the certificate in " + tls.certificate);
  if (SSL_CTX_use_PrivateKey_file(&context, tls.private_key.c_str(), SSL_FILETYPE_PEM) != 1) {
    // OpenSSL 3 compares the key with the certificate while loading it.
    if (ERR_GET_REASON(ERR_peek_error()) == X509_R_KEY_VALUES_MISMATCH) {
      ERR_clear_error();
      return mismatch;
    }
    return Problem("private_key", tls.private_key, "not a PEM private key: " + OpenSslError());
  }
  if (SSL_CTX_check_private_key(&context) != 1) {
    ERR_clear_error();
    return mismatch;
  }
  if (tls.client_ca.empty()) return Status::Ok();
  OCIREG_RETURN_IF_ERROR(CheckReadable("client_ca", tls.client_ca));
  if (SSL_CTX_load_verify_locations(&context, tls.client_ca.c_str(), nullptr) != 1) {
    return Problem("client_ca", tls.client_ca, "not a PEM CA bundle: " + OpenSslError());
  }
  // The CA names the server announces, so clients pick a matching certificate.
  STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(tls.client_ca.c_str());
  if (names != nullptr) SSL_CTX_set_client_CA_list(&context, names);
  int mode = SSL_VERIFY_PEER;
  if (tls.client_auth == ClientAuth::kRequired) mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
  SSL_CTX_set_verify(&context, mode, nullptr);
  return Status::Ok();
}

}  // namespace ocireg::internal
