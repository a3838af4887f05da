// SPDX-License-Identifier: Apache-2.0
// FakeS3: a scripted S3 for unit tests, an httplib server on a free 127.0.0.1 port whose every
// request goes to one handler, with helpers to answer as S3 does.
//
//   FakeS3 s3([](const httplib::Request& req, httplib::Response& res, int n) { ... });
//   auto client = MakeClient(s3.Options());
#pragma once

#include <httplib.h>

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "catch.h"
#include "ocireg/storage/s3.h"
#include "server_thread.h"
#include "status_macros.h"
#include "storage/s3/s3_client.h"

namespace ocireg::testing {

inline constexpr std::string_view kObject = "0123456789abcdefghij";

// An HTTP server on a free loopback port whose every request goes to one handler; it records how
// many requests came and on how many connections (distinct client ports).
class FakeS3 {
 public:
  using Handler = std::function<void(const httplib::Request&, httplib::Response&, int n)>;

  explicit FakeS3(Handler handler) : handler_(std::move(handler)) {
    auto route = [this](const httplib::Request& req, httplib::Response& res) {
      int n = 0;
      {
        std::lock_guard lock(mu_);
        n = ++requests_;
        ports_.insert(req.remote_port);
        targets_.push_back(req.method + " " + req.target);
      }
      handler_(req, res, n);
    };
    server_.Get(".*", route);
    server_.Put(".*", route);
    server_.Post(".*", route);
    server_.Delete(".*", route);
    server_.set_keep_alive_max_count(1000);
    running_.emplace(server_);
  }
  FakeS3(const FakeS3&) = delete;
  FakeS3& operator=(const FakeS3&) = delete;

  ocireg::S3Options Options() const {
    ocireg::S3Options options;
    options.endpoint = "http://127.0.0.1:" + std::to_string(running_->port());
    options.bucket = "bucket";
    options.path_style = true;
    options.credentials = {"AKIDTESTKEY", "s3cr3t/SECRET+key", ""};
    options.retry_base_delay = std::chrono::milliseconds(1);
    options.max_retries = 3;
    return options;
  }
  int requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }
  size_t connections() const {
    std::lock_guard lock(mu_);
    return ports_.size();
  }
  std::vector<std::string> targets() const {
    std::lock_guard lock(mu_);
    return targets_;
  }

 private:
  Handler handler_;
  mutable std::mutex mu_;
  int requests_ = 0;
  std::set<int> ports_;
  std::vector<std::string> targets_;
  httplib::Server server_;
  std::optional<ServerThread> running_;  // last: stops serving before anything above goes
};

inline std::unique_ptr<internal::s3::S3Client> MakeClient(const ocireg::S3Options& options) {
  auto client = internal::s3::S3Client::Create(options);
  REQUIRE_OK(client);
  return std::move(*client);
}

inline void SendError(httplib::Response& res, int status, const std::string& code,
                      const std::string& message = "") {
  res.status = status;
  res.set_header("x-amz-request-id", "req-" + std::to_string(status));
  res.set_content("<Error><Code>" + code + "</Code><Message>" + message +
                      "</Message><RequestId>body-id</RequestId></Error>",
                  "application/xml");
}

// Serves kObject, honouring a Range header "bytes=a-b" unless `ignore_range`. httplib cuts the
// range out of a body itself; a chunked body it sends whole, as a server that ignores Range would.
inline void ServeObject(const httplib::Request& req, httplib::Response& res, bool ignore_range) {
  if (ignore_range) {
    res.status = 200;
    res.set_chunked_content_provider("application/octet-stream",
                                     [](size_t, httplib::DataSink& sink) {
                                       sink.write(kObject.data(), kObject.size());
                                       sink.done();
                                       return true;
                                     });
    return;
  }
  const std::string range = req.get_header_value("Range");
  if (!range.empty() && std::stoul(range.substr(6)) >= kObject.size()) {
    return SendError(res, 416, "InvalidRange");
  }
  res.set_content(std::string(kObject), "application/octet-stream");
}

}  // namespace ocireg::testing
