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

namespace ocireg::internal {
namespace {

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
  return {ErrorCode::kInvalidArgument,
          "tls." + std::string(key) + ": " + path + ": " + what};
}

// Readable at all? OpenSSL's own message for a missing file is obscure.
Status CheckReadable(std::string_view key, const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) return Problem(key, path, std::string("cannot read: ") + std::strerror(errno));
  std::fclose(file);
  return Status::Ok();
}

}  // namespace

Status ConfigureTls(ssl_ctx_st& context, const TlsConfig& tls) {
  ERR_clear_error();
  SSL_CTX_set_min_proto_version(&context, TLS1_2_VERSION);
  SSL_CTX_set_options(&context, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  OCIREG_RETURN_IF_ERROR(CheckReadable("certificate", tls.certificate));
  if (SSL_CTX_use_certificate_chain_file(&context, tls.certificate.c_str()) != 1) {
    return Problem("certificate", tls.certificate, "not a PEM certificate chain: " + OpenSslError());
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
