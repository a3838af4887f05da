// SPDX-License-Identifier: Apache-2.0
#include "cluster/redis_connection.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace ocireg::internal {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

// A reply larger than this is refused: nothing this registry keeps in Redis comes near it, so a
// larger one is a server that is not speaking to us as we expect.
constexpr size_t kMaxReplyBytes = 16u << 20;

std::string ErrnoText() { return std::strerror(errno); }

std::string OpenSslText() {
  const unsigned long code = ERR_get_error();
  if (code == 0) return "TLS failed";
  char text[256];
  ERR_error_string_n(code, text, sizeof text);
  ERR_clear_error();
  return text;
}

timeval TimevalOf(milliseconds duration) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(duration.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((duration.count() % 1000) * 1000);
  return tv;
}

// Connects a socket to one of `host`'s addresses within `timeout`. Returns the descriptor or -1
// with `error` set.
int ConnectTcp(const RedisAddress& address, milliseconds timeout, std::string& error) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(address.port);
  if (int rc = getaddrinfo(address.host.c_str(), port.c_str(), &hints, &found); rc != 0) {
    error = gai_strerror(rc);
    return -1;
  }
  int fd = -1;
  for (addrinfo* ai = found; ai != nullptr && fd < 0; ai = ai->ai_next) {
    fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
    if (fd < 0) continue;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS) {
      error = ErrnoText();
      close(fd);
      fd = -1;
      continue;
    }
    pollfd wait{fd, POLLOUT, 0};
    int soerror = 0;
    socklen_t len = sizeof soerror;
    if (poll(&wait, 1, static_cast<int>(timeout.count())) != 1 ||
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerror, &len) != 0 || soerror != 0) {
      error = soerror != 0 ? std::strerror(soerror) : "connect timed out";
      close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(found);
  if (fd < 0) return -1;
  // Blocking from here on, each send and receive bounded by the command timeout.
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

// "run_id:<hex>" of an INFO server reply.
std::string RunIdOf(const std::string& info) {
  const size_t at = info.find("run_id:");
  if (at == std::string::npos) return "";
  const size_t start = at + 7;
  const size_t end = info.find_first_of("\r\n", start);
  return info.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

}  // namespace

struct RedisConnection::Transport {
  int fd = -1;
  SSL_CTX* ctx = nullptr;
  SSL* ssl = nullptr;
  RedisReplyReader reader;

  ~Transport() {
    if (ssl != nullptr) SSL_free(ssl);
    if (ctx != nullptr) SSL_CTX_free(ctx);
    if (fd >= 0) close(fd);
  }

  // Bytes sent or received, 0 at end of stream, -1 on an error or a timeout.
  ssize_t Write(const char* data, size_t size) {
    if (ssl == nullptr) return send(fd, data, size, MSG_NOSIGNAL);
    const int n = SSL_write(ssl, data, static_cast<int>(size));
    return n > 0 ? n : -1;
  }
  ssize_t Read(char* data, size_t size) {
    if (ssl == nullptr) return recv(fd, data, size, 0);
    const int n = SSL_read(ssl, data, static_cast<int>(size));
    if (n > 0) return n;
    return SSL_get_error(ssl, n) == SSL_ERROR_ZERO_RETURN ? 0 : -1;
  }

  Status StartTls(const RedisConnectOptions& options) {
    ctx = SSL_CTX_new(TLS_client_method());
    if (ctx == nullptr) return Unavailable(OpenSslText());
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    const bool loaded = options.ca_file.empty() ? SSL_CTX_set_default_verify_paths(ctx) == 1
                                                : SSL_CTX_load_verify_locations(
                                                      ctx, options.ca_file.c_str(), nullptr) == 1;
    if (!loaded)
      return Unavailable("cannot load the CAs of " + options.ca_file + ": " + OpenSslText());
    SSL_CTX_set_verify(ctx, options.tls_verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, nullptr);
    ssl = SSL_new(ctx);
    if (ssl == nullptr) return Unavailable(OpenSslText());
    const std::string& host = options.address.host;
    in6_addr ip{};
    const bool literal =
        inet_pton(AF_INET, host.c_str(), &ip) == 1 || inet_pton(AF_INET6, host.c_str(), &ip) == 1;
    if (!literal) SSL_set_tlsext_host_name(ssl, host.c_str());
    if (options.tls_verify) {
      X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
      const int named = literal ? X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str())
                                : X509_VERIFY_PARAM_set1_host(param, host.c_str(), 0);
      if (named != 1) return Unavailable(OpenSslText());
    }
    SSL_set_fd(ssl, fd);
    if (SSL_connect(ssl) != 1) {
      const long verified = SSL_get_verify_result(ssl);
      if (verified != X509_V_OK) {
        return Unavailable(std::string("TLS: certificate not trusted: ") +
                           X509_verify_cert_error_string(verified));
      }
      return Unavailable("TLS handshake failed: " + OpenSslText());
    }
    return Status::Ok();
  }
};

RedisConnection::RedisConnection(std::unique_ptr<Transport> transport, std::string address)
    : transport_(std::move(transport)), address_(std::move(address)) {}

RedisConnection::~RedisConnection() = default;

Result<std::unique_ptr<RedisConnection>> RedisConnection::Open(const RedisConnectOptions& options) {
  const std::string where = "redis at " + options.address.ToString();
  auto transport = std::make_unique<Transport>();
  std::string error;
  transport->fd = ConnectTcp(options.address, options.connect_timeout, error);
  if (transport->fd < 0) return Unavailable(where + ": " + error);
  // The handshake and the login run under the connect timeout; commands under theirs.
  const timeval connect_tv = TimevalOf(options.connect_timeout);
  setsockopt(transport->fd, SOL_SOCKET, SO_RCVTIMEO, &connect_tv, sizeof connect_tv);
  setsockopt(transport->fd, SOL_SOCKET, SO_SNDTIMEO, &connect_tv, sizeof connect_tv);
  if (options.address.tls) {
    if (Status tls = transport->StartTls(options); !tls.ok()) {
      return Unavailable(where + ": " + tls.message());
    }
  }
  std::unique_ptr<RedisConnection> connection(new RedisConnection(std::move(transport), where));
  if (!options.password.empty()) {
    std::vector<std::string> auth{"AUTH"};
    if (!options.address.user.empty()) auth.push_back(options.address.user);
    auth.push_back(options.password);
    auto reply = connection->Run(auth);
    if (!reply.ok()) return reply.status();
    if (reply->is_error()) return Unavailable(where + ": login refused: " + reply->text);
  }
  if (options.address.database != 0) {
    auto reply = connection->Run({"SELECT", std::to_string(options.address.database)});
    if (!reply.ok()) return reply.status();
    if (reply->is_error()) return Unavailable(where + ": SELECT: " + reply->text);
  }
  auto info = connection->Run({"INFO", "server"});
  if (!info.ok()) return info.status();
  if (info->is_error()) return Unavailable(where + ": " + info->text);
  connection->server_run_ = RunIdOf(info->text);
  const timeval command_tv = TimevalOf(options.command_timeout);
  const int fd = connection->transport_->fd;
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &command_tv, sizeof command_tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &command_tv, sizeof command_tv);
  return connection;
}

Result<RedisReply> RedisConnection::Run(const std::vector<std::string>& args) {
  if (broken_) return Unavailable(address_ + ": connection lost");
  std::vector<const char*> argv;
  std::vector<size_t> lengths;
  for (const std::string& arg : args) {
    argv.push_back(arg.data());
    lengths.push_back(arg.size());
  }
  char* command = nullptr;
  const int size =
      redisFormatCommandArgv(&command, static_cast<int>(args.size()), argv.data(), lengths.data());
  if (size < 0) return Internal("cannot format a Redis command");
  Status sent = Send(std::string_view(command, static_cast<size_t>(size)));
  redisFreeCommand(command);
  if (!sent.ok()) return sent;
  return Receive();
}

Status RedisConnection::Send(std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = transport_->Write(bytes.data(), bytes.size());
    if (n <= 0) {
      broken_ = true;
      return Unavailable(address_ + ": send failed: " +
                         (errno == EAGAIN ? std::string("timed out") : ErrnoText()));
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

Result<RedisReply> RedisConnection::Receive() {
  size_t received = 0;
  while (true) {
    auto parsed = transport_->reader.Next();
    if (!parsed.ok()) {
      broken_ = true;
      return Unavailable(address_ + ": " + parsed.status().message());
    }
    if (parsed->has_value()) return std::move(**parsed);
    char buffer[16384];
    errno = 0;
    const ssize_t n = transport_->Read(buffer, sizeof buffer);
    if (n <= 0) {
      broken_ = true;
      if (n == 0) return Unavailable(address_ + ": connection closed");
      return Unavailable(
          address_ + ": no reply: " +
          (errno == EAGAIN || errno == EWOULDBLOCK ? std::string("timed out") : ErrnoText()));
    }
    received += static_cast<size_t>(n);
    if (received > kMaxReplyBytes) {
      broken_ = true;
      return Unavailable(address_ + ": reply too large");
    }
    transport_->reader.Feed(std::string_view(buffer, static_cast<size_t>(n)));
  }
}

}  // namespace ocireg::internal
