// SPDX-License-Identifier: Apache-2.0
// Reads the user name out of a verified client certificate with OpenSSL.
#include "http/client_certificate.h"

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>

namespace ocireg::internal {
namespace {

std::string CommonName(X509* certificate) {
  X509_NAME* subject = X509_get_subject_name(certificate);
  const int index = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
  if (index < 0) return {};
  ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, index));
  unsigned char* utf8 = nullptr;
  const int length = ASN1_STRING_to_UTF8(&utf8, data);
  if (length < 0) return {};
  std::string name(reinterpret_cast<char*>(utf8), static_cast<size_t>(length));
  OPENSSL_free(utf8);
  return name;
}

std::string FirstAltName(X509* certificate, int type) {
  auto* names = static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(certificate, NID_subject_alt_name, nullptr, nullptr));
  if (names == nullptr) return {};
  std::string found;
  for (int i = 0; i < sk_GENERAL_NAME_num(names) && found.empty(); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
    if (name->type != type) continue;
    const ASN1_STRING* text = name->d.ia5;  // dNSName, rfc822Name and URI are all IA5Strings
    found.assign(reinterpret_cast<const char*>(ASN1_STRING_get0_data(text)),
                 static_cast<size_t>(ASN1_STRING_length(text)));
  }
  GENERAL_NAMES_free(names);
  return found;
}

}  // namespace

std::string ClientCertificateIdentity(const ssl_st* ssl, ClientIdentity which) {
  if (ssl == nullptr) return {};
  if (SSL_get_verify_result(ssl) != X509_V_OK) return {};
  std::unique_ptr<X509, decltype(&X509_free)> certificate(SSL_get1_peer_certificate(ssl),
                                                          &X509_free);
  if (certificate == nullptr) return {};
  std::string identity;
  switch (which) {
    case ClientIdentity::kCommonName:
      identity = CommonName(certificate.get());
      break;
    case ClientIdentity::kSanDns:
      identity = FirstAltName(certificate.get(), GEN_DNS);
      break;
    case ClientIdentity::kSanEmail:
      identity = FirstAltName(certificate.get(), GEN_EMAIL);
      break;
    case ClientIdentity::kSanUri:
      identity = FirstAltName(certificate.get(), GEN_URI);
      break;
  }
  // A name with a NUL inside could pass for a shorter one.
  if (identity.find('\0') != std::string::npos) return {};
  return identity;
}

}  // namespace ocireg::internal
