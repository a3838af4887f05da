// SPDX-License-Identifier: Apache-2.0
// S3Gateway: a real S3 endpoint for tests, a Ceph RADOS Gateway on 127.0.0.1 (Debian's ceph-mon,
// ceph-osd and radosgw, started by tests/support/rgw/start).
//
//   ocireg::testing::S3Bucket bucket = ocireg::testing::S3Gateway::Shared().NewBucket();
//   // bucket.endpoint "http://127.0.0.1:PORT", bucket.region, bucket.access_key,
//   // bucket.secret_key, bucket.bucket: an empty bucket no other test uses (path-style URLs)
//
// Shared() is the gateway of the whole test run when the environment names one
// (OCIREG_TEST_S3_ENDPOINT, _ACCESS_KEY, _SECRET_KEY, _REGION, as scripts/test exports them);
// otherwise this process starts its own at the first call, in a temporary directory, and stops
// it at exit (or, should the process die first, a watcher of the start script does). Starting
// takes some seconds and throws std::runtime_error, with the daemons' log tails, when the
// gateway does not come up.
//
// RestartGateway() restarts radosgw alone on the same port (the objects stay), PauseGateway() and
// ResumeGateway() stop and continue it, and RemoveBucket() removes a bucket with its objects: for
// tests of a gateway that goes away, hangs, or loses a bucket. On the shared gateway they need
// OCIREG_TEST_S3_DIR (the directory holding the cluster), and the first two disturb every test
// using it at that moment, so a test binary that calls them must not run beside other S3 tests
// (meson: is_parallel : false).
#pragma once

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "process.h"
#include "temp_dir.h"

#ifndef OCIREG_TEST_RGW_SCRIPTS
#error "OCIREG_TEST_RGW_SCRIPTS must name tests/support/rgw (see tests/s3/meson.build)"
#endif

namespace ocireg::testing {

struct S3Bucket {
  std::string endpoint;  // http://127.0.0.1:PORT
  std::string region;
  std::string access_key;
  std::string secret_key;
  std::string bucket;
};

class S3Gateway {
 public:
  // The gateway of this test process; see the file comment.
  static S3Gateway& Shared() {
    static S3Gateway gateway = FromEnvironmentOrStart();
    return gateway;
  }

  S3Gateway(S3Gateway&&) = default;
  S3Gateway& operator=(S3Gateway&&) = delete;
  S3Gateway(const S3Gateway&) = delete;
  S3Gateway& operator=(const S3Gateway&) = delete;
  ~S3Gateway() {
    if (owned_dir_ == nullptr) return;
    // Best effort at exit: should this fail, the start script's watcher ends the daemons.
    try {
      RunStatus({Script("stop"), cluster_dir_.string()}, owned_dir_->path() / "stop.log");
    } catch (const std::exception&) {
      // Nothing to do here: the watcher remains.
    }
  }

  const std::string& endpoint() const { return endpoint_; }
  const std::string& region() const { return region_; }
  const std::string& access_key() const { return access_key_; }
  const std::string& secret_key() const { return secret_key_; }

  // Creates an empty bucket with a name unique to this call and returns where to reach it.
  S3Bucket NewBucket() {
    S3Bucket bucket{endpoint_, region_, access_key_, secret_key_, UniqueBucketName()};
    const std::vector<std::string> command = Curl({"-X", "PUT", endpoint_ + "/" + bucket.bucket});
    RunS3Command(command, "creating bucket " + bucket.bucket);
    return bucket;
  }

  // The arguments of a curl command signed for this gateway (SigV4, unsigned payload), before
  // the caller's own `arguments`. RGW requires the x-amz-content-sha256 header to accept curl's
  // signature.
  std::vector<std::string> Curl(const std::vector<std::string>& arguments) const {
    std::vector<std::string> command = {"curl",         "--silent",
                                        "--show-error", "--fail-with-body",
                                        "--max-time",   "60",
                                        "--aws-sigv4",  "aws:amz:" + region_ + ":s3",
                                        "--user",       access_key_ + ":" + secret_key_,
                                        "-H",           "x-amz-content-sha256: UNSIGNED-PAYLOAD"};
    command.insert(command.end(), arguments.begin(), arguments.end());
    return command;
  }

  // Restarts radosgw alone, on the same port, and waits until it answers again.
  void RestartGateway() {
    RunS3Command({Script("restart-rgw"), ClusterDir("restarting").string()}, "restarting radosgw");
  }

  // Stops radosgw (SIGSTOP) or lets it go on (SIGCONT): while stopped, the kernel still accepts
  // connections and nothing answers, as with a gateway too slow for any timeout.
  void PauseGateway() { SignalGateway(SIGSTOP); }
  void ResumeGateway() { SignalGateway(SIGCONT); }

  // Removes `bucket` with every object in it, behind the back of whoever uses it.
  void RemoveBucket(const std::string& bucket) {
    const std::string conf = (ClusterDir("removing a bucket of") / "ceph.conf").string();
    RunS3Command({"radosgw-admin", "-c", conf, "bucket", "rm", "--bucket=" + bucket,
                  "--purge-objects", "--bypass-gc"},
                 "removing bucket " + bucket);
  }

 private:
  S3Gateway() = default;

  static S3Gateway FromEnvironmentOrStart() {
    S3Gateway gateway;
    const char* endpoint = getenv("OCIREG_TEST_S3_ENDPOINT");
    if (endpoint != nullptr && *endpoint != '\0') {
      gateway.endpoint_ = endpoint;
      gateway.access_key_ = RequiredVariable("OCIREG_TEST_S3_ACCESS_KEY");
      gateway.secret_key_ = RequiredVariable("OCIREG_TEST_S3_SECRET_KEY");
      const char* region = getenv("OCIREG_TEST_S3_REGION");
      gateway.region_ = region != nullptr && *region != '\0' ? region : "default";
      const char* dir = getenv("OCIREG_TEST_S3_DIR");
      if (dir != nullptr) gateway.cluster_dir_ = dir;
      gateway.log_dir_ = std::filesystem::temp_directory_path();
      return gateway;
    }
    gateway.owned_dir_ = std::make_unique<TempDir>();
    gateway.log_dir_ = gateway.owned_dir_->path();
    gateway.cluster_dir_ = gateway.owned_dir_->path() / "cluster";
    gateway.RunS3Command(
        {Script("start"), "--owner", std::to_string(getpid()), gateway.cluster_dir_.string()},
        "starting a Ceph RADOS Gateway");
    gateway.ReadEnvFile(gateway.cluster_dir_ / "env");
    return gateway;
  }

  const std::filesystem::path& ClusterDir(const std::string& doing) const {
    if (cluster_dir_.empty()) {
      throw std::runtime_error(doing +
                               " the shared S3 gateway needs OCIREG_TEST_S3_DIR (its cluster "
                               "directory)");
    }
    return cluster_dir_;
  }

  // Sends `signal` to radosgw, whose PID the cluster's env file holds (restart-rgw updates it).
  void SignalGateway(int signal) {
    const std::string env = ReadTextFile(ClusterDir("signalling") / "env");
    const std::string key = "OCIREG_TEST_S3_RGW_PID=";
    const size_t at = env.find(key);
    const pid_t pid = at == std::string::npos ? 0 : std::atoi(env.c_str() + at + key.size());
    if (pid <= 0 || kill(pid, signal) != 0) {
      throw std::runtime_error("cannot signal radosgw (PID " + std::to_string(pid) + ")");
    }
  }

  static std::string RequiredVariable(const char* name) {
    const char* value = getenv(name);
    if (value == nullptr || *value == '\0') {
      throw std::runtime_error(std::string("OCIREG_TEST_S3_ENDPOINT is set but ") + name +
                               " is not");
    }
    return value;
  }

  static std::string Script(const std::string& name) {
    return (std::filesystem::path(OCIREG_TEST_RGW_SCRIPTS) / name).string();
  }

  // Reads the KEY=VALUE lines the start script wrote.
  void ReadEnvFile(const std::filesystem::path& path) {
    std::map<std::string, std::string> values;
    std::istringstream lines(ReadTextFile(path));
    for (std::string line; std::getline(lines, line);) {
      const size_t equals = line.find('=');
      if (equals != std::string::npos) values[line.substr(0, equals)] = line.substr(equals + 1);
    }
    endpoint_ = values["OCIREG_TEST_S3_ENDPOINT"];
    access_key_ = values["OCIREG_TEST_S3_ACCESS_KEY"];
    secret_key_ = values["OCIREG_TEST_S3_SECRET_KEY"];
    region_ = values["OCIREG_TEST_S3_REGION"];
    if (endpoint_.empty() || access_key_.empty() || secret_key_.empty()) {
      throw std::runtime_error("incomplete gateway settings in " + path.string());
    }
  }

  // Runs `command` (at most 5 minutes: a cluster starting on a busy machine); throws with what
  // it wrote unless it exits with 0.
  void RunS3Command(const std::vector<std::string>& command, const std::string& what) const {
    const std::filesystem::path log =
        log_dir_ / ("s3-command-" + std::to_string(getpid()) + "-" +
                    std::to_string(command_counter_.fetch_add(1)) + ".log");
    const pid_t pid = SpawnProcess(command, log);
    const std::optional<int> status = WaitForChild(pid, std::chrono::minutes(5));
    if (!status) EndChild(pid);
    std::string output = ReadTextFile(log);
    std::error_code ignored;
    std::filesystem::remove(log, ignored);
    if (!status || !WIFEXITED(*status) || WEXITSTATUS(*status) != 0) {
      throw std::runtime_error(what + " failed: " + output);
    }
  }

  // Lower-case letters, digits and '-', at most 63 characters: valid for S3 and unique across
  // the processes sharing a gateway.
  static std::string UniqueBucketName() {
    static std::atomic<unsigned> counter{0};
    static const unsigned salt = std::random_device{}();
    std::ostringstream name;
    name << "ocireg-test-" << std::hex << salt << "-" << std::dec << getpid() << "-"
         << counter.fetch_add(1);
    return name.str();
  }

  std::unique_ptr<TempDir> owned_dir_;  // set when this process started the gateway
  std::filesystem::path cluster_dir_;   // "" when the environment names no directory
  std::filesystem::path log_dir_;       // where the output of commands goes for a moment
  std::string endpoint_;
  std::string region_;
  std::string access_key_;
  std::string secret_key_;
  static inline std::atomic<unsigned> command_counter_{0};
};

}  // namespace ocireg::testing
