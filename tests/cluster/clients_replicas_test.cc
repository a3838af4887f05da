// SPDX-License-Identifier: Apache-2.0
// Real clients through HAProxy in front of three replicas: ocireg-check with every check, skopeo
// copying an image in and out, and curl pushing chunks that land on each replica in turn.
#include "replicas.h"

namespace ocireg {
namespace {

using namespace cluster_test;  // NOLINT(google-build-using-namespace): the shared fixture

// ---- 1. Real clients through the balancer --------------------------------------------------

// Writes a three-layer OCI image layout to `layout`, tagged v1 (gzipped tars of random files,
// as tests/interop builds them); scratch files go to `work`.
void WriteOciLayout(const std::filesystem::path& layout, const std::filesystem::path& work) {
  static constexpr const char* kScript = R"sh(
set -euo pipefail
layout=$0 work=$1
mkdir -p "$layout/blobs/sha256" "$work"
add_blob() {  # FILE MEDIATYPE -> descriptor
  local digest size
  digest=$(sha256sum "$1" | cut -d' ' -f1)
  size=$(stat -c %s "$1")
  cp "$1" "$layout/blobs/sha256/$digest"
  jq -cn --arg t "$2" --arg d "sha256:$digest" --argjson s "$size" '{mediaType: $t, digest: $d, size: $s}'
}
layers=() diff_ids=()
for i in 1 2 3; do
  mkdir -p "$work/rootfs$i/etc"
  echo "layer $i" >"$work/rootfs$i/etc/file$i"
  head -c $((40000 * i)) /dev/urandom >"$work/rootfs$i/etc/random$i"
  tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$work/rootfs$i" -cf "$work/layer$i.tar" .
  diff_ids+=("sha256:$(sha256sum "$work/layer$i.tar" | cut -d' ' -f1)")
  gzip -n -c "$work/layer$i.tar" >"$work/layer$i.tar.gz"
  layers+=("$(add_blob "$work/layer$i.tar.gz" application/vnd.oci.image.layer.v1.tar+gzip)")
done
jq -cn '{architecture: "amd64", os: "linux", rootfs: {type: "layers", diff_ids: $ARGS.positional},
        config: {Cmd: ["/bin/true"]}}' --args "${diff_ids[@]}" >"$work/config.json"
config=$(add_blob "$work/config.json" application/vnd.oci.image.config.v1+json)
printf '%s\n' "${layers[@]}" | jq -cs --argjson c "$config" \
  '{schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json", config: $c, layers: .}' \
  >"$work/manifest.json"
manifest=$(add_blob "$work/manifest.json" application/vnd.oci.image.manifest.v1+json)
echo '{"imageLayoutVersion":"1.0.0"}' >"$layout/oci-layout"
jq -cn --argjson d "$manifest" \
  '{schemaVersion: 2, manifests: [$d + {annotations: {"org.opencontainers.image.ref.name": "v1"}}]}' \
  >"$layout/index.json"
)sh";
  testing::RunCommand({"bash", "-c", kScript, layout.string(), work.string()},
                      work.parent_path() / "layout.log");
}

// The files of `layout`'s blobs/sha256, by name.
std::map<std::string, std::string> LayoutBlobs(const std::filesystem::path& layout) {
  std::map<std::string, std::string> blobs;
  for (const auto& entry : std::filesystem::directory_iterator(layout / "blobs" / "sha256")) {
    blobs[entry.path().filename().string()] = testing::ReadTextFile(entry.path());
  }
  return blobs;
}

// What curl answered: its status code and headers (from curl -D).
struct CurlAnswer {
  int status = 0;
  std::string headers;
  std::string body;
  std::string Header(const std::string& name) const {
    std::string lower = headers;
    std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
    std::string key = name;
    std::transform(key.begin(), key.end(), key.begin(), ::tolower);
    const size_t at = lower.find("\n" + key + ":");
    if (at == std::string::npos) return "";
    size_t begin = at + key.size() + 2;
    while (begin < headers.size() && headers[begin] == ' ') ++begin;
    const size_t end = headers.find_first_of("\r\n", begin);
    return headers.substr(begin, end - begin);
  }
};

// Runs curl with `args` (a request) and returns what it answered.
CurlAnswer Curl(const std::filesystem::path& dir, const std::vector<std::string>& args) {
  const std::filesystem::path headers = dir / "curl.headers";
  const std::filesystem::path out = dir / "curl.out";
  std::vector<std::string> argv = {"curl",       "-sS",
                                   "--max-time", "60",
                                   "-D",         headers.string(),
                                   "-o",         (dir / "curl.body").string(),
                                   "-w",         "%{http_code}"};
  argv.insert(argv.end(), args.begin(), args.end());
  std::filesystem::remove(headers);
  std::filesystem::remove(dir / "curl.body");
  const int exit_code = RunTo(argv, out, dir / "curl.err", seconds(70));
  INFO("curl: " << testing::ReadTextFile(dir / "curl.err"));
  REQUIRE(exit_code == 0);
  CurlAnswer answer;
  answer.status = std::atoi(testing::ReadTextFile(out).c_str());
  answer.headers = "\n" + testing::ReadTextFile(headers);
  answer.body = testing::ReadTextFile(dir / "curl.body");
  return answer;
}

// How many access log lines of each replica's latest start hold `needle`.
std::vector<size_t> CountInLogs(Cluster& cluster, const std::string& needle) {
  std::vector<size_t> counts;
  for (size_t i = 0; i < kReplicas; ++i) {
    const std::string text = cluster.replica(i).current_log_text();
    size_t count = 0;
    for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
      ++count;
    }
    counts.push_back(count);
  }
  return counts;
}

// The replica whose access log gained a line holding `needle` since `before` (the counts of
// CountInLogs); waits up to 5 s for the line, which is written as the request ends.
size_t ServedBy(Cluster& cluster, const std::string& needle, const std::vector<size_t>& before) {
  const auto deadline = steady_clock::now() + seconds(5);
  while (true) {
    const std::vector<size_t> now = CountInLogs(cluster, needle);
    for (size_t i = 0; i < kReplicas; ++i) {
      if (now[i] > before[i]) return i;
    }
    if (steady_clock::now() > deadline) FAIL("no replica logged " << needle);
    std::this_thread::sleep_for(milliseconds(20));
  }
}

TEST_CASE("through HAProxy, ocireg-check, skopeo and chunked curl pushes work over three replicas",
          "[cluster][balancer]") {
  Cluster cluster;
  const std::string registry = cluster.balancer().url();

  SECTION("ocireg-check passes every check, all categories") {
    const std::filesystem::path list = cluster.dir() / "check-list.txt";
    REQUIRE(RunTo({OCIREG_CHECK, "--list"}, list, cluster.dir() / "check-list.err", seconds(10)) ==
            0);
    size_t known = 0;
    for (char c : testing::ReadTextFile(list)) known += c == '\n' ? 1 : 0;
    REQUIRE(known > 40);

    const std::filesystem::path report = cluster.dir() / "check.json";
    const int exit_code = RunTo({OCIREG_CHECK, "-H", "127.0.0.1", "-P",
                                 std::to_string(cluster.balancer().port()), "-V", "all", "--json"},
                                report, cluster.dir() / "check.err", seconds(150));
    const std::string text = testing::ReadTextFile(report);
    rapidjson::Document doc;
    doc.Parse(text.data(), text.size());
    INFO(testing::ReadTextFile(cluster.dir() / "check.err"));
    REQUIRE_FALSE(doc.HasParseError());
    REQUIRE(doc.IsObject());
    size_t passed = 0;
    for (const auto& check : doc["checks"].GetArray()) {
      const std::string status = check["status"].GetString();
      INFO(check["id"].GetString() << ": " << status << ": " << check["reason"].GetString());
      CHECK(status == "PASS");
      passed += status == "PASS" ? 1 : 0;
    }
    CHECK(doc["checks"].GetArray().Size() == known);
    for (const auto& step : doc["cleanup"].GetArray()) {
      INFO("clean-up " << step["what"].GetString() << ": " << step["detail"].GetString());
      CHECK(step["ok"].GetBool());
    }
    CHECK(passed == known);
    CHECK(doc["passed"].GetBool());
    CHECK(exit_code == 0);
  }

  SECTION("skopeo copies a three-layer image in and back out, every byte kept") {
    if (!HaveProgram("skopeo") || !HaveProgram("jq")) {
      WARN("skopeo or jq is not installed: skipped");
      return;
    }
    const std::filesystem::path src = cluster.dir() / "src";
    const std::filesystem::path back = cluster.dir() / "back";
    WriteOciLayout(src, cluster.dir() / "build");
    // skopeo must not read the machine's credentials or policies.
    testing::WriteTextFile(cluster.dir() / "auth.json", "{}");
    testing::WriteTextFile(cluster.dir() / "policy.json",
                           R"({"default":[{"type":"insecureAcceptAnything"}]})");
    const std::vector<std::string> skopeo = {
        "env", "REGISTRY_AUTH_FILE=" + (cluster.dir() / "auth.json").string(), "skopeo", "--policy",
        (cluster.dir() / "policy.json").string()};
    auto run = [&](std::vector<std::string> args) {
      std::vector<std::string> argv = skopeo;
      argv.insert(argv.end(), args.begin(), args.end());
      const int exit_code =
          RunTo(argv, cluster.dir() / "skopeo.out", cluster.dir() / "skopeo.err", seconds(120));
      INFO(testing::ReadTextFile(cluster.dir() / "skopeo.err"));
      REQUIRE(exit_code == 0);
      return testing::ReadTextFile(cluster.dir() / "skopeo.out");
    };
    run({"copy", "-q", "--preserve-digests", "--dest-tls-verify=false",
         "oci:" + src.string() + ":v1", "docker://" + registry + "/bal/skopeo:v1"});
    run({"copy", "-q", "--preserve-digests", "--src-tls-verify=false",
         "docker://" + registry + "/bal/skopeo:v1", "oci:" + back.string() + ":v1"});

    const std::map<std::string, std::string> sent = LayoutBlobs(src);
    const std::map<std::string, std::string> received = LayoutBlobs(back);
    REQUIRE(sent.size() == 5);  // three layers, the config, the manifest
    CHECK(received == sent);
    // Each replica serves the manifest the layout holds.
    const std::string raw =
        run({"inspect", "--raw", "--tls-verify=false", "docker://" + registry + "/bal/skopeo:v1"});
    const std::string digest = Sha256(raw);
    CHECK(sent.count(digest.substr(std::string("sha256:").size())) == 1);
    for (size_t i = 0; i < kReplicas; ++i) {
      auto client = cluster.replica(i).Client();
      httplib::Result manifest = GetManifest(*client, "bal/skopeo", "v1");
      REQUIRE(manifest);
      CHECK(manifest->status == 200);
      CHECK(manifest->body == raw);
    }
  }

  SECTION("curl pushes a blob in chunks, each request on the next replica in turn") {
    const std::string blob = RandomBytes(300 * 1024, NextSeed());
    const std::string digest = Sha256(blob);
    const std::string base = "http://" + registry;
    const std::string needle = " /v2/bal/chunks/blobs/";
    std::vector<size_t> served;  // the replica of each request

    std::vector<size_t> before = CountInLogs(cluster, needle);
    CurlAnswer answer = Curl(cluster.dir(), {"-X", "POST", base + "/v2/bal/chunks/blobs/uploads/"});
    REQUIRE(answer.status == 202);
    served.push_back(ServedBy(cluster, needle, before));
    std::string location = answer.Header("Location");
    REQUIRE(!location.empty());

    constexpr size_t kChunk = 100 * 1024;
    for (size_t at = 0; at < blob.size(); at += kChunk) {
      const std::filesystem::path chunk = cluster.dir() / "chunk";
      testing::WriteTextFile(chunk, blob.substr(at, kChunk));
      before = CountInLogs(cluster, needle);
      answer = Curl(cluster.dir(),
                    {"-X", "PATCH", "--data-binary", "@" + chunk.string(), "-H",
                     "Content-Type: application/octet-stream", "-H",
                     "Content-Range: " + std::to_string(at) + "-" + std::to_string(at + kChunk - 1),
                     base + location});
      INFO(answer.headers);
      REQUIRE(answer.status == 202);
      CHECK(answer.Header("Range") == "0-" + std::to_string(at + kChunk - 1));
      served.push_back(ServedBy(cluster, needle, before));
      location = answer.Header("Location");
    }
    before = CountInLogs(cluster, needle);
    answer = Curl(cluster.dir(), {"-X", "PUT", "-H", "Content-Length: 0",
                                  base + WithQuery(location, "digest=" + digest)});
    INFO(answer.headers);
    REQUIRE(answer.status == 201);
    served.push_back(ServedBy(cluster, needle, before));
    CHECK(answer.Header("Docker-Content-Digest") == digest);

    // Round robin: every request on another replica than the one before, all three used.
    REQUIRE(served.size() == 5);
    for (size_t i = 1; i < served.size(); ++i) {
      INFO("request " << i);
      CHECK(served[i] == (served[i - 1] + 1) % kReplicas);
    }
    CHECK(std::set<size_t>(served.begin(), served.end()).size() == kReplicas);

    answer = Curl(cluster.dir(), {base + "/v2/bal/chunks/blobs/" + digest});
    CHECK(answer.status == 200);
    CHECK(answer.body == blob);
  }
}

}  // namespace
}  // namespace ocireg
