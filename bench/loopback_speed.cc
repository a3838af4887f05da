// SPDX-License-Identifier: Apache-2.0
// loopback_speed: the machine's TCP throughput over 127.0.0.1, the ceiling for any pull.
//
//   loopback_speed [--bytes N] [--write-size N] [--http-once]
//
// One connection: a thread accepts it and reads into a buffer it discards, the main thread
// writes N bytes (default 1 GiB) in writes of --write-size (default 1 MiB, as a server sending a
// file does). The time runs from the connect to the reader's end of stream, so it counts every
// byte as received. Prints one JSON line: {"bytes": N, "seconds": S, "MBps": R}.
//
// With --http-once it is the fastest server an HTTP client can pull from instead: it prints
// {"port": P} (flushed) once it listens, answers the first request on one connection with
// 200 and N bytes from memory, and exits. The client's time is then its own ceiling for a pull.
// Exit status: 0 on success, 1 when a socket call fails, 2 for a usage error.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

constexpr const char* kUsage = "usage: loopback_speed [--bytes N] [--write-size N] [--http-once]\n";
constexpr long kMaxBytes = 64L << 30;
constexpr long kMaxWriteSize = 64L << 20;
constexpr size_t kReadSize = 1 << 20;

using Clock = std::chrono::steady_clock;

// A file descriptor closed when it goes out of scope.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

bool Fail(const char* what) {
  std::fprintf(stderr, "loopback_speed: %s: %s\n", what, std::strerror(errno));
  return false;
}

// A listening socket on 127.0.0.1 at a port the kernel picks; sets `address` to it.
bool Listen(const Fd& listener, sockaddr_in& address) {
  address = {};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  if (bind(listener.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    return Fail("bind");
  }
  if (listen(listener.get(), 1) != 0) return Fail("listen");
  if (getsockname(listener.get(), reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    return Fail("getsockname");
  }
  return true;
}

// Accepts one connection and reads it to its end; `received` counts the bytes.
void Drain(int listener, long& received, bool& ok) {
  Fd connection(accept(listener, nullptr, nullptr));
  if (connection.get() < 0) {
    ok = Fail("accept");
    return;
  }
  std::vector<char> buffer(kReadSize);
  while (true) {
    ssize_t n = read(connection.get(), buffer.data(), buffer.size());
    if (n == 0) break;
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ok = Fail("read");
      return;
    }
    received += n;
  }
  ok = true;
}

bool WriteAll(int fd, const std::vector<char>& buffer, long bytes) {
  while (bytes > 0) {
    size_t size = static_cast<size_t>(std::min<long>(bytes, static_cast<long>(buffer.size())));
    ssize_t n = write(fd, buffer.data(), size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Fail("write");
    bytes -= n;
  }
  return true;
}

int Measure(long bytes, long write_size) {
  Fd listener(socket(AF_INET, SOCK_STREAM, 0));
  sockaddr_in address{};
  if (listener.get() < 0 || !Listen(listener, address)) return 1;
  long received = 0;
  bool drained = false;
  // The buffer's content does not matter to TCP; it is filled once so pages are really mapped.
  std::vector<char> buffer(static_cast<size_t>(write_size), 'x');
  Clock::time_point start = Clock::now();
  std::thread reader(Drain, listener.get(), std::ref(received), std::ref(drained));
  bool sent = false;
  {
    Fd connection(socket(AF_INET, SOCK_STREAM, 0));
    if (connection.get() < 0) {
      Fail("socket");
    } else if (connect(connection.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)) !=
               0) {
      Fail("connect");
    } else {
      sent = WriteAll(connection.get(), buffer, bytes);
    }
  }  // closing the connection ends the reader's stream
  reader.join();
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (!sent || !drained || received != bytes) return 1;
  std::printf("{\"bytes\": %ld, \"seconds\": %.6f, \"MBps\": %.1f}\n", bytes, seconds,
              static_cast<double>(bytes) / seconds / 1e6);
  return 0;
}

// Reads a request head to its empty line (bounded), so the answer follows the whole request.
bool ReadRequestHead(int fd) {
  std::string head;
  char c = 0;
  while (head.size() < 64 * 1024 && !head.ends_with("\r\n\r\n")) {
    ssize_t n = read(fd, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Fail("read request");
    head.push_back(c);
  }
  return head.ends_with("\r\n\r\n");
}

int ServeHttpOnce(long bytes, long write_size) {
  Fd listener(socket(AF_INET, SOCK_STREAM, 0));
  sockaddr_in address{};
  if (listener.get() < 0 || !Listen(listener, address)) return 1;
  std::printf("{\"port\": %d}\n", ntohs(address.sin_port));
  std::fflush(stdout);
  Fd connection(accept(listener.get(), nullptr, nullptr));
  if (connection.get() < 0) {
    Fail("accept");
    return 1;
  }
  if (!ReadRequestHead(connection.get())) return 1;
  const std::string head =
      "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
      "Content-Length: " +
      std::to_string(bytes) + "\r\nConnection: close\r\n\r\n";
  std::vector<char> head_bytes(head.begin(), head.end());
  std::vector<char> buffer(static_cast<size_t>(write_size), 'x');
  return WriteAll(connection.get(), head_bytes, static_cast<long>(head.size())) &&
                 WriteAll(connection.get(), buffer, bytes)
             ? 0
             : 1;
}

bool ParseNumber(std::string_view text, long max, long& value) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return ec == std::errc() && end == text.data() + text.size() && value >= 1 && value <= max;
}

}  // namespace

int main(int argc, char** argv) {
  long bytes = 1L << 30;
  long write_size = 1L << 20;
  bool http_once = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view name = argv[i];
    if (name == "--http-once") {
      http_once = true;
      continue;
    }
    std::string_view value = i + 1 < argc ? argv[++i] : "";
    bool ok = name == "--bytes"        ? ParseNumber(value, kMaxBytes, bytes)
              : name == "--write-size" ? ParseNumber(value, kMaxWriteSize, write_size)
                                       : false;
    if (!ok) {
      std::fprintf(stderr, "loopback_speed: bad option %s\n%s", name.data(), kUsage);
      return 2;
    }
  }
  return http_once ? ServeHttpOnce(bytes, write_size) : Measure(bytes, write_size);
}
