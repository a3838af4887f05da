// SPDX-License-Identifier: Apache-2.0
// ConnectionSocket: finds a request's socket among the process's descriptors by its two ends.
#include "http/connection_socket.h"

#include <dirent.h>
#include <httplib.h>
#include <netdb.h>
#include <sys/socket.h>

#include <charconv>
#include <string>
#include <string_view>

namespace ocireg::internal {
namespace {

// An address and port in the text httplib puts in Request (getnameinfo, numeric host).
struct Endpoint {
  std::string address;
  int port = -1;
};

std::optional<Endpoint> EndpointOf(const sockaddr_storage& storage, socklen_t length) {
  char host[NI_MAXHOST];
  char service[NI_MAXSERV];
  if (::getnameinfo(reinterpret_cast<const sockaddr*>(&storage), length, host, sizeof(host),
                    service, sizeof(service), NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
    return std::nullopt;
  }
  Endpoint endpoint{host, -1};
  std::string_view port(service);
  std::from_chars(port.data(), port.data() + port.size(), endpoint.port);
  return endpoint;
}

bool Matches(int fd, const httplib::Request& req) {
  sockaddr_storage storage{};
  socklen_t length = sizeof(storage);
  // Cheapest test first: the peer, which also rules out files and listening sockets.
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&storage), &length) != 0) return false;
  auto remote = EndpointOf(storage, length);
  if (!remote || remote->port != req.remote_port || remote->address != req.remote_addr) {
    return false;
  }
  length = sizeof(storage);
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&storage), &length) != 0) return false;
  auto local = EndpointOf(storage, length);
  return local && local->port == req.local_port && local->address == req.local_addr;
}

std::optional<int> Search(const httplib::Request& req) {
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return std::nullopt;
  std::optional<int> found;
  while (const dirent* entry = ::readdir(dir)) {
    int fd = -1;
    std::string_view name(entry->d_name);
    auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), fd);
    if (ec != std::errc() || end != name.data() + name.size() || fd == ::dirfd(dir)) continue;
    if (Matches(fd, req)) {
      found = fd;
      break;
    }
  }
  ::closedir(dir);
  return found;
}

}  // namespace

std::optional<int> ConnectionSocket(const httplib::Request& req) {
  if (req.ssl != nullptr || req.remote_port < 0 || req.local_port < 0) return std::nullopt;
  // httplib serves a connection on one thread from start to end, so the socket this thread found
  // last is usually the one: checking it costs two system calls, a search one per descriptor.
  thread_local int last = -1;
  if (last >= 0 && Matches(last, req)) return last;
  auto found = Search(req);
  last = found.value_or(-1);
  return found;
}

}  // namespace ocireg::internal
