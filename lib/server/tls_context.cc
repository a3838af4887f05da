// SPDX-License-Identifier: Apache-2.0
// ConfigureTls and ServerCertificate: check the files of config.tls one by one, so each mistake
// gets its own message, and hand each handshake the certificate that is current.
#include "server/tls_context.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
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

// TLS 1.3 suites, AES-128-GCM first: with AES instructions it is the cheapest per byte, and it is
// as safe as AES-256-GCM for the data a registry moves. OpenSSL's default list puts AES-256-GCM
// first and follows the client's order, and OpenSSL clients such as curl send that same list: every
// pull paid for AES-256's 14 rounds instead of 10.
constexpr const char* kTls13Ciphers =
    "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";

// Sessions (TLS 1.2 ids and TLS 1.3 tickets) may only be resumed by the context that made them.
// OpenSSL refuses to resume a session with peer verification on unless this is set, and it does
// so with an internal-error alert that clients treat as fatal.
constexpr std::string_view kSessionContext = "ocireg";

struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct X509Free {
  void operator()(X509* certificate) const { X509_free(certificate); }
};
struct KeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct ChainFree {
  void operator()(STACK_OF(X509) * chain) const { sk_X509_pop_free(chain, X509_free); }
};
struct ContextFree {
  void operator()(SSL_CTX* context) const { SSL_CTX_free(context); }
};

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
  return InvalidArgument("tls." + std::string(key) + ": " + path + ": " + what);
}

// Opens `path` for reading; OpenSSL's own message for a missing file is obscure.
Result<std::unique_ptr<BIO, BioFree>> OpenFile(std::string_view key, const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    return Problem(key, path, std::string("cannot read: ") + std::strerror(errno));
  }
  std::unique_ptr<BIO, BioFree> bio(BIO_new_fp(file, BIO_CLOSE));
  if (bio == nullptr) {
    std::fclose(file);
    return Problem(key, path, "cannot read: " + OpenSslError());
  }
  return bio;
}

// An encrypted key would make OpenSSL ask for a passphrase on the terminal; refuse it instead.
int NoPassphrase(char*, int, int, void*) { return -1; }

// True when the only queued error is the end of the PEM input, which ends a chain.
bool AtEndOfPem() {
  const unsigned long code = ERR_peek_last_error();
  return ERR_GET_LIB(code) == ERR_LIB_PEM && ERR_GET_REASON(code) == PEM_R_NO_START_LINE;
}

using X509Ptr = std::unique_ptr<X509, X509Free>;
using ChainPtr = std::unique_ptr<STACK_OF(X509), ChainFree>;
using KeyPtr = std::unique_ptr<EVP_PKEY, KeyFree>;

// The first certificate of the PEM file `path` and the ones after it.
Status ReadChain(const std::string& path, X509Ptr& leaf, ChainPtr& chain) {
  auto bio = OpenFile("certificate", path);
  if (!bio.ok()) return bio.status();
  leaf.reset(PEM_read_bio_X509_AUX(bio->get(), nullptr, NoPassphrase, nullptr));
  if (leaf == nullptr) {
    return Problem("certificate", path, "not a PEM certificate chain: " + OpenSslError());
  }
  chain.reset(sk_X509_new_null());
  while (X509* next = PEM_read_bio_X509(bio->get(), nullptr, NoPassphrase, nullptr)) {
    sk_X509_push(chain.get(), next);
  }
  if (!AtEndOfPem()) {
    return Problem("certificate", path, "not a PEM certificate chain: " + OpenSslError());
  }
  ERR_clear_error();
  return Status::Ok();
}

Status ReadKey(const std::string& path, KeyPtr& key) {
  auto bio = OpenFile("private_key", path);
  if (!bio.ok()) return bio.status();
  key.reset(PEM_read_bio_PrivateKey(bio->get(), nullptr, NoPassphrase, nullptr));
  if (key == nullptr) {
    return Problem("private_key", path, "not a PEM private key: " + OpenSslError());
  }
  return Status::Ok();
}

}  // namespace

struct ServerCertificate::Pair {
  X509Ptr leaf;
  ChainPtr chain;
  KeyPtr key;
};

ServerCertificate::ServerCertificate() = default;
ServerCertificate::~ServerCertificate() = default;

Status ServerCertificate::Load(const TlsConfig& tls) {
  ERR_clear_error();
  auto pair = std::make_shared<Pair>();
  OCIREG_RETURN_IF_ERROR(ReadChain(tls.certificate, pair->leaf, pair->chain));
  OCIREG_RETURN_IF_ERROR(ReadKey(tls.private_key, pair->key));
  if (X509_check_private_key(pair->leaf.get(), pair->key.get()) != 1) {
    ERR_clear_error();
    return Problem("private_key", tls.private_key,
                   "does not match the certificate in " + tls.certificate);
  }
  // What a handshake would refuse (a key or a signature below OpenSSL's security level) is
  // refused now, while the old pair can still be kept.
  std::unique_ptr<SSL_CTX, ContextFree> trial(SSL_CTX_new(TLS_server_method()));
  if (trial == nullptr || SSL_CTX_use_cert_and_key(trial.get(), pair->leaf.get(), pair->key.get(),
                                                   pair->chain.get(), 1) != 1) {
    return Problem("certificate", tls.certificate, "not usable: " + OpenSslError());
  }
  std::lock_guard lock(mutex_);
  current_ = std::move(pair);
  return Status::Ok();
}

void ServerCertificate::InstallOn(ssl_ctx_st& context) {
  SSL_CTX_set_cert_cb(&context, &ServerCertificate::Callback, this);
}

int ServerCertificate::Callback(ssl_st* ssl, void* self) {
  return static_cast<const ServerCertificate*>(self)->PutOn(*ssl);
}

int ServerCertificate::PutOn(ssl_st& ssl) const {
  std::shared_ptr<const Pair> pair;
  {
    std::lock_guard lock(mutex_);
    pair = current_;
  }
  if (pair == nullptr) return 0;
  // OpenSSL takes references of its own: a later Load does not pull them from under the SSL.
  return SSL_use_cert_and_key(&ssl, pair->leaf.get(), pair->key.get(), pair->chain.get(), 1) == 1
             ? 1
             : 0;
}

Status ConfigureTls(ssl_ctx_st& context, const TlsConfig& tls, ServerCertificate& certificate) {
  ERR_clear_error();
  SSL_CTX_set_min_proto_version(&context, TLS1_2_VERSION);
  // Our order of suites decides, except that a client that lists ChaCha20 first (one without AES
  // instructions, where ChaCha20 is the faster) gets it.
  SSL_CTX_set_options(&context, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                                    SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_PRIORITIZE_CHACHA);
  if (SSL_CTX_set_cipher_list(&context, kTls12Ciphers) != 1) {
    return Internal("cannot set the TLS 1.2 cipher suites: " + OpenSslError());
  }
  if (SSL_CTX_set_ciphersuites(&context, kTls13Ciphers) != 1) {
    return Internal("cannot set the TLS 1.3 cipher suites: " + OpenSslError());
  }
  if (SSL_CTX_set_session_id_context(&context,
                                     reinterpret_cast<const unsigned char*>(kSessionContext.data()),
                                     static_cast<unsigned int>(kSessionContext.size())) != 1) {
    return Internal("cannot set the TLS session context: " + OpenSslError());
  }
  OCIREG_RETURN_IF_ERROR(certificate.Load(tls));
  certificate.InstallOn(context);
  if (tls.client_ca.empty()) return Status::Ok();
  auto readable = OpenFile("client_ca", tls.client_ca);
  if (!readable.ok()) return readable.status();
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
