// SPDX-License-Identifier: Apache-2.0
// HeadWaiter: an epoll loop over connections that wait for a TLS handshake or a request head.
#include "server/head_waiter.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <vector>

#include "server/tls_accept.h"

namespace ocireg::internal {
namespace {

// Deadlines and the stop flag are checked at least this often.
constexpr int kSweepMillis = 100;

}  // namespace

HeadWaiter::HeadWaiter(const ConnectionSettings& settings, std::function<void(ConnectionPtr)> ready,
                       std::function<bool()> stopping)
    : settings_(settings), ready_(std::move(ready)), stopping_(std::move(stopping)) {
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.fd = wake_fd_;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &event);
  thread_ = std::thread([this] { Run(); });
}

HeadWaiter::~HeadWaiter() {
  Join();
  ::close(wake_fd_);
  ::close(epoll_fd_);
}

void HeadWaiter::Hold(ConnectionPtr connection) {
  {
    std::lock_guard lock(mutex_);
    if (!joined_) {
      queued_.push_back(std::move(connection));
      connection = nullptr;
    }
  }
  if (connection) {
    connection->stream->Close(false, false);
    return;
  }
  Wake();
}

void HeadWaiter::Join() {
  Wake();
  if (thread_.joinable()) thread_.join();
}

void HeadWaiter::Wake() {
  uint64_t one = 1;
  [[maybe_unused]] ssize_t n = ::write(wake_fd_, &one, sizeof(one));
}

void HeadWaiter::AdmitQueued() {
  std::deque<ConnectionPtr> queued;
  {
    std::lock_guard lock(mutex_);
    queued.swap(queued_);
  }
  for (auto& connection : queued) {
    const int fd = connection->stream->socket();
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.fd = fd;
    if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event) != 0) continue;  // closed by reset
    Connection& held = *connection;
    held_[fd] = std::move(connection);
    // Bytes may have come before the descriptor joined the set (a head left in the buffer).
    if (!held.stream->Buffered().empty() && !Progress(held)) Release(fd);
  }
}

void HeadWaiter::Release(int fd) {
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
  held_.erase(fd);
}

bool HeadWaiter::Progress(Connection& connection) {
  ConnectionStream& stream = *connection.stream;
  if (connection.handshaking) {
    switch (AcceptTlsStep(stream.ssl())) {
      case TlsStep::kDone:
        connection.handshaking = false;
        break;
      case TlsStep::kWantRead:
        return true;
      case TlsStep::kWantWrite: {
        // Rare (a full send buffer mid-handshake): wait for room instead of input this once.
        epoll_event event{};
        event.events = EPOLLOUT;
        event.data.fd = stream.socket();
        ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, stream.socket(), &event);
        return true;
      }
      case TlsStep::kFailed:
        return false;
    }
  }
  const Clock::time_point now_or_never = Clock::time_point::min();
  for (;;) {
    size_t head_size = 0;
    HeadRefusal refusal;
    HeadState state = CheckHead(connection, settings_, head_size, refusal);
    if (state == HeadState::kRefused) {
      // Refused here, without a worker: answer without lingering over what the client sends.
      stream.Close(WriteRefusal(stream, refusal), false);
      return false;
    }
    if (state == HeadState::kReady) {
      ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, stream.socket(), nullptr);
      auto it = held_.find(stream.socket());
      ConnectionPtr owned = std::move(it->second);
      held_.erase(it);
      ready_(std::move(owned));
      return true;  // no longer held, but not to be released again
    }
    const size_t room = settings_.head_limits.max_head_bytes - stream.Buffered().size();
    ssize_t n = stream.Fill(now_or_never, room);
    if (n == ConnectionStream::kTimedOut) return true;  // nothing more for now
    if (n <= 0) return false;
    connection.NoteHeadBytes(settings_);
  }
}

void HeadWaiter::Sweep(bool stopping) {
  const Clock::time_point now = Clock::now();
  std::vector<int> expired;
  for (auto& [fd, connection] : held_) {
    const bool idle_too_long =
        now >= connection->idle_deadline && connection->stream->Buffered().empty();
    if (stopping || idle_too_long || now >= connection->head_deadline) {
      expired.push_back(fd);
    }
  }
  for (int fd : expired) {
    Connection& connection = *held_[fd];
    size_t head_size = 0;
    HeadRefusal refusal;
    // A head begun and not finished in time gets its 408; an idle connection just ends.
    if (!stopping && !connection.handshaking &&
        CheckHead(connection, settings_, head_size, refusal) == HeadState::kRefused) {
      connection.stream->Close(WriteRefusal(*connection.stream, refusal), false);
    }
    Release(fd);
  }
}

void HeadWaiter::Run() {
  std::vector<epoll_event> events(256);
  for (;;) {
    const bool stopping = stopping_();
    {
      std::lock_guard lock(mutex_);
      if (stopping) joined_ = true;
    }
    AdmitQueued();
    Sweep(stopping);
    if (stopping) return;
    int n = ::epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()), kSweepMillis);
    for (int i = 0; i < n; ++i) {
      const int fd = events[i].data.fd;
      if (fd == wake_fd_) {
        uint64_t count = 0;
        [[maybe_unused]] ssize_t r = ::read(wake_fd_, &count, sizeof(count));
        continue;
      }
      auto it = held_.find(fd);
      if (it == held_.end()) continue;
      Connection& connection = *it->second;
      if (events[i].events & EPOLLOUT) {
        epoll_event event{};
        event.events = EPOLLIN;
        event.data.fd = fd;
        ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &event);
      }
      if (!Progress(connection)) Release(fd);
    }
  }
}

}  // namespace ocireg::internal
