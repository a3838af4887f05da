// SPDX-License-Identifier: Apache-2.0
// HttpClient over httplib::Client: one connection per request, bodies hashed as they stream in.
#include "check/http_client.h"

#include <httplib.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <fstream>

namespace ocireg::internal::check {
namespace {

constexpr int kMaxRedirects = 5;

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

bool IsAbsolute(std::string_view target) {
  return target.starts_with("http://") || target.starts_with("https://");
}

std::string Origin(std::string_view scheme, std::string_view host, uint16_t port) {
  const bool ipv6 = host.find(':') != std::string_view::npos;
  return std::string(scheme) + "://" + (ipv6 ? "[" : "") + std::string(host) + (ipv6 ? "]" : "") +
         ":" + std::to_string(port);
}

// Why no response came, in words (httplib's own names are identifiers).
std::string ErrorText(httplib::Error error) {
  switch (error) {
    case httplib::Error::Connection:
      return "cannot connect";
    case httplib::Error::ConnectionTimeout:
      return "connection timed out";
    case httplib::Error::Read:
      return "reading the response failed or timed out";
    case httplib::Error::Write:
      return "sending the request failed or timed out";
    case httplib::Error::SSLConnection:
      return "TLS handshake failed";
    case httplib::Error::SSLLoadingCerts:
      return "cannot load the CA certificates";
    case httplib::Error::SSLServerVerification:
      return "TLS: the registry's certificate could not be verified";
    default:
      return httplib::to_string(error);
  }
}

}  // namespace

bool HttpResponse::has_header(std::string_view name) const {
  return std::any_of(headers.begin(), headers.end(),
                     [&](const auto& h) { return EqualsIgnoreCase(h.first, name); });
}

std::string HttpResponse::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (EqualsIgnoreCase(key, name)) return value;
  }
  return "";
}

std::vector<std::string> HttpResponse::header_values(std::string_view name) const {
  std::vector<std::string> values;
  for (const auto& [key, value] : headers) {
    if (EqualsIgnoreCase(key, name)) values.push_back(value);
  }
  return values;
}

std::string Url::origin() const { return Origin(scheme, host, port); }

Result<Url> ParseUrl(std::string_view text) {
  Url url;
  const size_t colon = text.find("://");
  if (colon == std::string_view::npos) return InvalidArgument("not a URL");
  url.scheme = std::string(text.substr(0, colon));
  if (url.scheme != "http" && url.scheme != "https") {
    return InvalidArgument("not an http or https URL");
  }
  std::string_view rest = text.substr(colon + 3);
  const size_t slash = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, slash);
  url.path = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  if (url.path.front() == '?') url.path.insert(url.path.begin(), '/');
  if (const size_t at = authority.rfind('@'); at != std::string_view::npos) {
    authority.remove_prefix(at + 1);  // credentials in a URL are never used
  }
  std::string_view port_text;
  if (authority.starts_with('[')) {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return InvalidArgument("bad host");
    url.host = std::string(authority.substr(1, close - 1));
    if (close + 1 < authority.size() && authority[close + 1] == ':') {
      port_text = authority.substr(close + 2);
    }
  } else {
    const size_t port_colon = authority.rfind(':');
    url.host = std::string(authority.substr(0, port_colon));
    if (port_colon != std::string_view::npos) port_text = authority.substr(port_colon + 1);
  }
  if (url.host.empty()) return InvalidArgument("URL without a host");
  url.port = url.scheme == "https" ? 443 : 80;
  if (!port_text.empty()) {
    auto [end, ec] =
        std::from_chars(port_text.data(), port_text.data() + port_text.size(), url.port);
    if (ec != std::errc() || end != port_text.data() + port_text.size()) {
      return InvalidArgument("bad port");
    }
  }
  return url;
}

std::string PercentEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (std::isalnum(byte) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += c;
    } else {
      out += '%';
      out += kHex[byte >> 4];
      out += kHex[byte & 15];
    }
  }
  return out;
}

std::string AppendQuery(std::string_view target, std::string_view name, std::string_view value) {
  const char separator = target.find('?') == std::string_view::npos ? '?' : '&';
  return std::string(target) + separator + std::string(name) + "=" + PercentEncode(value);
}

Result<std::unique_ptr<HttpClient>> HttpClient::Create(const CheckOptions& options) {
  if (options.host.empty()) return InvalidArgument("no registry host given");
  if (!options.cacert.empty() && !std::ifstream(options.cacert)) {
    return InvalidArgument("cannot read the CA file " + options.cacert);
  }
  return std::unique_ptr<HttpClient>(new HttpClient(options));
}

HttpClient::HttpClient(const CheckOptions& options) : options_(options) {
  const uint16_t port = options.port != 0 ? options.port : (options.tls ? 443 : 80);
  origin_ = Origin(options.tls ? "https" : "http", options.host, port);
}

HttpClient::~HttpClient() = default;

httplib::Client& HttpClient::ClientFor(const std::string& origin) {
  auto& slot = clients_[origin];
  if (slot) return *slot;
  slot = std::make_unique<httplib::Client>(origin);
  const auto seconds = static_cast<time_t>(options_.timeout.count());
  slot->set_connection_timeout(seconds);
  slot->set_read_timeout(seconds);
  slot->set_write_timeout(seconds);
  // Requests go out exactly as the checks build them, and bodies come back as the registry sent
  // them: digests are over the bytes on the wire.
  slot->set_url_encode(false);
  slot->set_decompress(false);
  slot->set_compress(false);
  slot->set_keep_alive(false);
  if (origin.starts_with("https://")) {
    slot->enable_server_certificate_verification(!options_.insecure);
    if (!options_.cacert.empty()) slot->set_ca_cert_path(options_.cacert);
  }
  if (origin == origin_ && !options_.user.empty()) {
    slot->set_basic_auth(options_.user, options_.password);
  }
  return *slot;
}

HttpResponse HttpClient::Send(const HttpRequest& request) {
  std::string origin = origin_;
  std::string path = request.target;
  std::vector<std::string> redirects;
  for (int hop = 0;; ++hop) {
    if (IsAbsolute(path)) {
      auto url = ParseUrl(path);
      if (!url.ok()) {
        HttpResponse bad;
        bad.error = "cannot follow " + path + ": " + url.status().message();
        return bad;
      }
      origin = url->origin();
      path = url->path;
    } else if (!path.starts_with('/')) {
      path.insert(path.begin(), '/');
    }
    HttpResponse response = SendOnce(ClientFor(origin), request, path);
    const bool follow = (request.method == "GET" || request.method == "HEAD") &&
                        response.status >= 300 && response.status < 400 && response.status != 304 &&
                        response.has_header("Location");
    if (!follow || hop == kMaxRedirects) {
      response.redirects = std::move(redirects);
      return response;
    }
    redirects.push_back(std::to_string(response.status) + " to " + response.header("Location"));
    path = response.header("Location");
  }
}

HttpResponse HttpClient::SendOnce(httplib::Client& client, const HttpRequest& request,
                                  const std::string& path) {
  HttpResponse response;
  Digester digester(request.body_digest);
  httplib::Request req;
  req.method = request.method;
  req.path = path;
  for (const auto& [name, value] : request.headers) req.headers.emplace(name, value);
  req.body = request.body;
  req.content_receiver = [&](const char* data, size_t length, uint64_t, uint64_t) {
    digester.Update(std::span<const char>(data, length));
    response.body_size += length;
    const size_t room = HttpResponse::kMaxKeptBody - response.body.size();
    response.body.append(data, std::min(room, length));
    return true;
  };
  httplib::Response res;
  httplib::Error error = httplib::Error::Success;
  if (!client.send(req, res, error)) {
    response.error = ErrorText(error);
    return response;
  }
  response.status = res.status;
  for (const auto& [name, value] : res.headers) response.headers.emplace_back(name, value);
  if (request.method != "HEAD") response.body_digest = digester.Finish();
  return response;
}

}  // namespace ocireg::internal::check
