// SPDX-License-Identifier: Apache-2.0
// One connection to an LDAP directory through the OpenLDAP client library (thread-safe since
// 2.5 as long as each handle stays on one thread at a time).
#include "auth/ldap_session.h"

#include <sys/time.h>

#include <utility>

#include "quote.h"

namespace ocireg::internal {
namespace {

// Deleters for what libldap allocates, which only libldap may free.
struct MessageFree {
  const LdapLibrary* ldap;
  void operator()(LDAPMessage* message) const { ldap->ldap_msgfree(message); }
};
struct MemFree {
  const LdapLibrary* ldap;
  void operator()(char* text) const { ldap->ldap_memfree(text); }
};
struct ValuesFree {
  const LdapLibrary* ldap;
  void operator()(berval** values) const { ldap->ldap_value_free_len(values); }
};

void OnClose(LDAP*, Sockbuf*, ldap_conncb*) {}  // the watchdog keeps its duplicate until the end

timeval ToTimeval(std::chrono::seconds seconds) {
  return timeval{static_cast<time_t>(seconds.count()), 0};
}

bool IsLdapsUrl(const LdapLibrary& ldap, std::string_view url) {
  LDAPURLDesc* description = nullptr;
  if (ldap.ldap_url_parse(std::string(url).c_str(), &description) != LDAP_URL_SUCCESS) {
    return false;
  }
  const bool ldaps = std::string_view(description->lud_scheme) == "ldaps";
  ldap.ldap_free_urldesc(description);
  return ldaps;
}

// Answers of a bind that mean "these credentials are refused", as opposed to "cannot decide".
bool RefusesCredentials(int rc) {
  return rc == LDAP_INVALID_CREDENTIALS || rc == LDAP_INAPPROPRIATE_AUTH ||
         rc == LDAP_UNWILLING_TO_PERFORM || rc == LDAP_INSUFFICIENT_ACCESS;
}

// Sets one option; the error names it for the message.
Status SetOption(const LdapLibrary& ldap, LDAP* ld, int option, const void* value,
                 std::string_view name) {
  const int rc = ldap.ldap_set_option(ld, option, value);
  if (rc == LDAP_OPT_SUCCESS) return Status::Ok();
  return Unavailable("LDAP: cannot set " + std::string(name) + ": " + ldap.ldap_err2string(rc));
}

// Certificates are always checked, against config.ca_file when it is set; a context made for
// this handle keeps the setting from leaking into other handles or the process-wide default.
Status SetUpTls(const LdapLibrary& ldap, LDAP* ld, const LdapConfig& config) {
  const int demand = LDAP_OPT_X_TLS_DEMAND;
  OCIREG_RETURN_IF_ERROR(SetOption(ldap, ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &demand, "REQUIRE_CERT"));
  const int min_version = LDAP_OPT_X_TLS_PROTOCOL_TLS1_2;
  OCIREG_RETURN_IF_ERROR(
      SetOption(ldap, ld, LDAP_OPT_X_TLS_PROTOCOL_MIN, &min_version, "PROTOCOL_MIN"));
  if (!config.ca_file.empty()) {
    OCIREG_RETURN_IF_ERROR(
        SetOption(ldap, ld, LDAP_OPT_X_TLS_CACERTFILE, config.ca_file.c_str(), "CACERTFILE"));
  }
  const int is_server = 0;
  const int rc = ldap.ldap_set_option(ld, LDAP_OPT_X_TLS_NEWCTX, &is_server);
  if (rc != LDAP_OPT_SUCCESS) {
    return Unavailable("LDAP: cannot set up TLS (CA file " + QuoteForMessage(config.ca_file) +
                       "): " + ldap.ldap_err2string(rc));
  }
  return Status::Ok();
}

}  // namespace

LdapSession::LdapSession(const LdapLibrary& ldap, LDAP* ld, std::string url,
                         std::chrono::seconds timeout)
    : ldap_(ldap),
      ld_(ld),
      url_(std::move(url)),
      timeout_(timeout),
      callbacks_{&OnConnect, &OnClose, this} {}

LdapSession::~LdapSession() {
  Arm();  // the unbind request is written to the socket; that write must not hang either
  ldap_.ldap_unbind_ext_s(ld_, nullptr, nullptr);
  watchdog_.Disarm();
}

int LdapSession::OnConnect(LDAP*, Sockbuf* sb, LDAPURLDesc*, sockaddr*, ldap_conncb* callbacks) {
  LdapSession& session = *static_cast<LdapSession*>(callbacks->lc_arg);
  ber_socket_t fd = -1;
  if (session.ldap_.ber_sockbuf_ctrl(sb, LBER_SB_OPT_GET_FD, &fd) == 1 && fd >= 0) {
    session.watchdog_.Watch(fd);
  }
  return 0;
}

Result<std::unique_ptr<LdapSession>> LdapSession::Open(const LdapLibrary& ldap,
                                                       const LdapConfig& config) {
  LDAP* ld = nullptr;
  const int rc = ldap.ldap_initialize(&ld, config.url.c_str());
  if (rc != LDAP_SUCCESS || ld == nullptr) {
    return Unavailable("LDAP: cannot use " + QuoteForMessage(config.url) + ": " +
                       ldap.ldap_err2string(rc));
  }
  // From here on the session owns the handle and unbinds it on every path.
  std::unique_ptr<LdapSession> session(new LdapSession(ldap, ld, config.url, config.timeout));

  OCIREG_RETURN_IF_ERROR(
      SetOption(ldap, ld, LDAP_OPT_CONNECT_CB, &session->callbacks_, "CONNECT_CB"));
  const int version = LDAP_VERSION3;
  OCIREG_RETURN_IF_ERROR(
      SetOption(ldap, ld, LDAP_OPT_PROTOCOL_VERSION, &version, "PROTOCOL_VERSION"));
  // A referral would make the library bind elsewhere on its own, anonymously: never follow one.
  OCIREG_RETURN_IF_ERROR(SetOption(ldap, ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF, "REFERRALS"));
  // What LDAP_OPT_ON stands for; the macro itself would name liblber's variable at link time.
  OCIREG_RETURN_IF_ERROR(SetOption(ldap, ld, LDAP_OPT_RESTART, ldap.ber_pvt_opt_on, "RESTART"));
  // The network timeout bounds connecting and (in principle) the TLS handshake, the other one
  // each wait for an answer; the watchdog catches what slips through.
  const timeval timeout = ToTimeval(config.timeout);
  OCIREG_RETURN_IF_ERROR(
      SetOption(ldap, ld, LDAP_OPT_NETWORK_TIMEOUT, &timeout, "NETWORK_TIMEOUT"));
  OCIREG_RETURN_IF_ERROR(SetOption(ldap, ld, LDAP_OPT_TIMEOUT, &timeout, "TIMEOUT"));

  if (config.start_tls || IsLdapsUrl(ldap, config.url)) {
    OCIREG_RETURN_IF_ERROR(SetUpTls(ldap, ld, config));
  }
  if (config.start_tls) {
    session->Arm();
    const int tls_rc = ldap.ldap_start_tls_s(ld, nullptr, nullptr);
    session->watchdog_.Disarm();
    if (tls_rc != LDAP_SUCCESS) return session->CallFailed("StartTLS failed", tls_rc);
  }
  return session;
}

std::string LdapSession::Describe(int rc) {
  std::string text = ldap_.ldap_err2string(rc);
  char* diagnostic = nullptr;
  if (ldap_.ldap_get_option(ld_, LDAP_OPT_DIAGNOSTIC_MESSAGE, &diagnostic) == LDAP_OPT_SUCCESS &&
      diagnostic != nullptr) {
    std::unique_ptr<char, MemFree> owned(diagnostic, MemFree{&ldap_});
    if (*diagnostic != '\0') text += std::string(" (") + diagnostic + ")";
  }
  if (watchdog_.fired()) {
    text += " (no answer within " + std::to_string(2 * timeout_.count()) + " s)";
  }
  return text;
}

Status LdapSession::CallFailed(std::string_view what, int rc) {
  return Unavailable("LDAP server " + url_ + ": " + std::string(what) + ": " + Describe(rc));
}

Status LdapSession::Bind(const std::string& dn, std::string_view password) {
  berval credentials{static_cast<ber_len_t>(password.size()), const_cast<char*>(password.data())};
  Arm();
  const int rc = ldap_.ldap_sasl_bind_s(ld_, dn.c_str(), LDAP_SASL_SIMPLE, &credentials, nullptr,
                                        nullptr, nullptr);
  watchdog_.Disarm();
  if (rc == LDAP_SUCCESS) return Status::Ok();
  if (RefusesCredentials(rc)) {
    return Unauthorized("LDAP: bind as " + QuoteForMessage(dn) + " refused: " + Describe(rc));
  }
  return CallFailed("bind as " + QuoteForMessage(dn) + " failed", rc);
}

Result<LdapSearchResult> LdapSession::Search(const std::string& base, const std::string& filter,
                                             const std::string& attribute, int size_limit) {
  // "1.1" asks for no attributes at all (RFC 4511 4.5.1.8).
  std::string wanted = attribute.empty() ? "1.1" : attribute;
  char* attributes[] = {wanted.data(), nullptr};
  timeval timeout = ToTimeval(timeout_);
  LDAPMessage* raw = nullptr;
  Arm();
  const int rc =
      ldap_.ldap_search_ext_s(ld_, base.c_str(), LDAP_SCOPE_SUBTREE, filter.c_str(), attributes, 0,
                              nullptr, nullptr, &timeout, size_limit, &raw);
  watchdog_.Disarm();
  std::unique_ptr<LDAPMessage, MessageFree> answer(raw, MessageFree{&ldap_});
  if (rc != LDAP_SUCCESS && rc != LDAP_SIZELIMIT_EXCEEDED) {
    return CallFailed("search under " + QuoteForMessage(base) + " failed", rc);
  }
  LdapSearchResult result;
  result.truncated = rc == LDAP_SIZELIMIT_EXCEEDED;
  for (LDAPMessage* entry = ldap_.ldap_first_entry(ld_, answer.get()); entry != nullptr;
       entry = ldap_.ldap_next_entry(ld_, entry)) {
    LdapEntry& out = result.entries.emplace_back();
    std::unique_ptr<char, MemFree> dn(ldap_.ldap_get_dn(ld_, entry), MemFree{&ldap_});
    if (dn) out.dn = dn.get();
    if (attribute.empty()) continue;
    std::unique_ptr<berval*, ValuesFree> values(
        ldap_.ldap_get_values_len(ld_, entry, attribute.c_str()), ValuesFree{&ldap_});
    for (berval** value = values.get(); value != nullptr && *value != nullptr; ++value) {
      out.values.emplace_back((*value)->bv_val, (*value)->bv_len);
    }
  }
  return result;
}

}  // namespace ocireg::internal
