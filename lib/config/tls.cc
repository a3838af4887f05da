// SPDX-License-Identifier: Apache-2.0
// The [tls] table: the server certificate and key, and client certificates (mutual TLS).
#include "config/schema.h"

namespace ocireg::config_parse {
namespace {

constexpr std::pair<std::string_view, ClientAuth> kClientAuth[] = {
    {"required", ClientAuth::kRequired}, {"optional", ClientAuth::kOptional}};
constexpr std::pair<std::string_view, ClientIdentity> kClientIdentity[] = {
    {"cn", ClientIdentity::kCommonName},
    {"san-dns", ClientIdentity::kSanDns},
    {"san-email", ClientIdentity::kSanEmail},
    {"san-uri", ClientIdentity::kSanUri}};

Status CheckTls(const Config& c) {
  const TlsConfig& tls = c.tls;
  if (!tls.certificate.empty() && tls.private_key.empty()) {
    return InvalidArgument("private_key is required when certificate is set");
  }
  if (tls.certificate.empty() && !tls.private_key.empty()) {
    return InvalidArgument("certificate is required when private_key is set");
  }
  if (tls.certificate.empty() && !tls.client_ca.empty()) {
    return InvalidArgument("client_ca needs TLS: set certificate and private_key");
  }
  return Status::Ok();
}

}  // namespace

std::vector<SectionSpec> TlsSections() {
  return {
      {"tls",
       {OCIREG_FIELD(tls, certificate, ReadString(n)),
        OCIREG_FIELD(tls, private_key, ReadString(n)), OCIREG_FIELD(tls, client_ca, ReadString(n)),
        OCIREG_FIELD(tls, client_auth, ReadChoice(n, kClientAuth)),
        OCIREG_FIELD(tls, client_identity, ReadChoice(n, kClientIdentity))},
       nullptr,
       nullptr,
       CheckTls}};
}

std::string_view ClientAuthName(ClientAuth value) { return NameOf(kClientAuth, value); }

std::string_view ClientIdentityName(ClientIdentity value) { return NameOf(kClientIdentity, value); }

}  // namespace ocireg::config_parse
