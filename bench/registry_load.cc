// SPDX-License-Identifier: Apache-2.0
// registry_load: a load client for any OCI registry (ocireg, CNCF distribution, ...) over plain
// HTTP. Each subcommand drives one workload and prints one JSON object line on stdout, so a
// benchmark script can run the same workload against several registries and compare them.
//
//   registry_load SUBCOMMAND --host HOST --port PORT [options]   (see kUsage below)
//
// Exit status: 0 when every request succeeded; 1 when one failed or timed out (the JSON line is
// still printed, with its "errors" count, and the first failure is described on stderr); 2 for a
// usage error.
#include <httplib.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

constexpr const char* kUsage =
    "usage: registry_load SUBCOMMAND --host HOST --port PORT [options]\n"
    "\n"
    "  wait-ready --since-ns NS [--timeout-s 30]\n"
    "      GET /v2/ every millisecond on a fresh connection until any response arrives;\n"
    "      prints ready_seconds, counted from NS (wall clock in ns, as `date +%s%N` gives).\n"
    "  latency --path PATH [--header 'Name: value']... [--count 200]\n"
    "      COUNT sequential GETs on one keep-alive connection after one warm-up; prints the\n"
    "      median and 90th percentile in ms. A non-2xx status counts as an error.\n"
    "  push-blobs --repo REPO [--count 200] [--size 16384] [--connections 16]\n"
    "      pushes COUNT distinct blobs of SIZE bytes (POST, then PUT with the digest).\n"
    "  push-images --repo REPO [--count 200] [--size 16384] [--connections 16]\n"
    "      pushes COUNT distinct images into REPO, tagged t00000...: each its config and one\n"
    "      layer of SIZE bytes (POST and PUT each), then its manifest; built before the clock.\n"
    "  populate-repos --count N [--prefix bench/r] [--connections 16]\n"
    "      creates repositories PREFIX00000... each holding one small image tagged latest;\n"
    "      its blobs are pushed once and mounted into the other repositories.\n"
    "  populate-tags --repo REPO --count N [--connections 16]\n"
    "      pushes one small image into REPO and tags it t00000...\n"
    "  push-image --repo REPO --tag TAG --layers K --layer-size BYTES\n"
    "      pushes an image of K layers on one connection; each layer is a tar+gzip holding one\n"
    "      file of BYTES random bytes (stored, not compressed, so clients copy it as is).\n"
    "\n"
    "Prints one JSON line. Exit status: 0 when all requests succeeded, 1 when one failed,\n"
    "2 for a usage error.\n";

using Clock = std::chrono::steady_clock;

constexpr const char* kManifestType = "application/vnd.oci.image.manifest.v1+json";
constexpr const char* kConfigType = "application/vnd.oci.image.config.v1+json";
constexpr const char* kLayerType = "application/vnd.oci.image.layer.v1.tar+gzip";

// Blobs are built in memory, so their sizes are capped to keep a typo from exhausting it.
constexpr long kMaxBlobSize = 256L << 20;
constexpr long kMaxImageSize = 1L << 30;
// Repository and tag names carry a 5-digit index.
constexpr long kMaxNames = 100000;

struct Options {
  std::string command;
  std::string host;
  long port = 0;
  std::string path;
  httplib::Headers headers;
  std::string repo;
  std::string tag;
  std::string prefix = "bench/r";
  long count = 0;  // 0: not given; each subcommand sets its own default or requires it
  long size = 16384;
  long connections = 16;
  long layers = 0;
  long layer_size = 0;
  long timeout_s = 30;
  long since_ns = 0;
};

// Counts failed requests across threads. Only the first failure is described on stderr, so a
// run that exits 1 says why without flooding the terminal when every request fails alike.
class Errors {
 public:
  void Add(const std::string& what) {
    if (count_.fetch_add(1) == 0) std::fprintf(stderr, "registry_load: %s\n", what.c_str());
  }
  long count() const { return count_.load(); }

 private:
  std::atomic<long> count_{0};
};

// "METHOD PATH: status N: BODY" with the body cut to 200 bytes and kept on one line, or the
// transport error when no response came.
std::string Describe(const char* method, const std::string& path, const httplib::Result& result) {
  std::string line = std::string(method) + " " + path + ": ";
  if (!result) return line + "no response (" + httplib::to_string(result.error()) + ")";
  std::string body = result->body.substr(0, 200);
  std::replace_if(
      body.begin(), body.end(), [](char c) { return c == '\n' || c == '\r'; }, ' ');
  return line + "status " + std::to_string(result->status) + ": " + body;
}

bool Expect(const httplib::Result& result, int status, const char* method, const std::string& path,
            Errors& errors) {
  if (result && result->status == status) return true;
  errors.Add(Describe(method, path, result));
  return false;
}

// A keep-alive connection. Paths go out exactly as given: upload locations come from the
// registry already encoded, and encoding them again would change them.
httplib::Client Connect(const Options& options) {
  httplib::Client client(options.host, static_cast<int>(options.port));
  client.set_keep_alive(true);
  client.set_connection_timeout(5);
  client.set_read_timeout(60);
  client.set_write_timeout(60);
  client.set_url_encode(false);
  return client;
}

double Seconds(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

int ExitCode(const Errors& errors) { return errors.count() == 0 ? 0 : 1; }

// "sha256:<hex>", or "" if OpenSSL fails (the registry then rejects the push, which counts).
std::string Sha256(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(data.data(), data.size(), md, &length, EVP_sha256(), nullptr) != 1) return {};
  constexpr char kHex[] = "0123456789abcdef";
  std::string digest = "sha256:";
  for (unsigned int i = 0; i < length; ++i) {
    digest += kHex[md[i] >> 4];
    digest += kHex[md[i] & 15];
  }
  return digest;
}

// Fresh random content on every run, so a registry never already holds what is pushed.
std::string RandomBytes(long size) {
  std::string bytes(static_cast<size_t>(size), '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(bytes.data()), static_cast<int>(size)) != 1) {
    std::fprintf(stderr, "registry_load: OpenSSL gave no random bytes\n");
    std::exit(1);
  }
  return bytes;
}

// Blob `index` of a run: the run's seed and the index make it unique; a cheap pattern fills the
// rest, since random filler would only slow the client down.
std::string BlobContent(const std::string& seed, long index, long size) {
  std::string content = seed + std::to_string(index) + ":";
  size_t prefix = content.size();
  content.resize(static_cast<size_t>(size));
  for (size_t i = prefix; i < content.size(); ++i) content[i] = static_cast<char>('a' + i % 26);
  return content;
}

std::string Numbered(const std::string& prefix, long index) {
  char digits[24];  // room for any long
  std::snprintf(digits, sizeof digits, "%05ld", index);
  return prefix + digits;
}

struct Blob {
  std::string media_type;
  std::string content;
  std::string digest;
};

Blob MakeBlob(std::string media_type, std::string content) {
  std::string digest = Sha256(content);
  return {std::move(media_type), std::move(content), std::move(digest)};
}

struct Image {
  Blob config;
  std::vector<Blob> layers;
  std::string manifest;
  std::string digest;
};

std::string DescriptorJson(const Blob& blob) {
  return R"({"mediaType":")" + blob.media_type + R"(","digest":")" + blob.digest + R"(","size":)" +
         std::to_string(blob.content.size()) + "}";
}

// A tar archive holding one regular file: a POSIX ustar header (fields at their fixed offsets),
// the content padded to 512 bytes, and the two zero blocks that end an archive.
std::string Tar(const std::string& name, const std::string& content) {
  std::string header(512, '\0');
  auto put = [&](size_t offset, const std::string& text) {
    header.replace(offset, text.size(), text);
  };
  char octal[16];
  std::snprintf(octal, sizeof octal, "%011zo", content.size());
  put(0, name.substr(0, 99));
  put(100, "0000644");
  put(108, "0000000");
  put(116, "0000000");
  put(124, octal);
  put(136, "00000000000");
  put(148, "        ");  // the checksum counts its own field as spaces
  put(156, "0");
  put(257, "ustar");  // the header is zero-filled, so this is "ustar\0", then version "00"
  put(263, "00");
  unsigned int sum = 0;
  for (char c : header) sum += static_cast<unsigned char>(c);
  std::snprintf(octal, sizeof octal, "%06o", sum);
  put(148, std::string(octal, 7));
  size_t padding = (512 - content.size() % 512) % 512;
  return header + content + std::string(padding + 1024, '\0');
}

// CRC-32 as gzip uses it, bit by bit: layers are built once, before the timed part.
uint32_t Crc32(std::string_view data) {
  uint32_t crc = 0xffffffffu;
  for (unsigned char c : data) {
    crc ^= c;
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

void AppendLittleEndian(std::string& out, uint32_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out += static_cast<char>((value >> (8 * i)) & 0xff);
}

// A gzip member of stored (uncompressed) deflate blocks. Random data would not shrink anyway,
// and a client that finds real gzip copies a tar+gzip layer as it is, where it would compress
// anything else again (skopeo does) and so time its own compressor instead of the registry.
std::string Gzip(std::string_view data) {
  std::string out("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff", 10);
  constexpr size_t kBlock = 65535;
  size_t offset = 0;
  do {
    size_t length = std::min(kBlock, data.size() - offset);
    bool last = offset + length == data.size();
    out += static_cast<char>(last ? 1 : 0);
    AppendLittleEndian(out, static_cast<uint32_t>(length), 2);
    AppendLittleEndian(out, static_cast<uint32_t>(~length), 2);
    out.append(data.substr(offset, length));
    offset += length;
  } while (offset < data.size());
  AppendLittleEndian(out, Crc32(data), 4);
  AppendLittleEndian(out, static_cast<uint32_t>(data.size()), 4);
  return out;
}

std::string ManifestJson(const Blob& config, const std::vector<Blob>& layers) {
  std::string manifest = std::string(R"({"schemaVersion":2,"mediaType":")") + kManifestType +
                         R"(","config":)" + DescriptorJson(config) + R"(,"layers":[)";
  for (size_t i = 0; i < layers.size(); ++i) {
    if (i > 0) manifest += ",";
    manifest += DescriptorJson(layers[i]);
  }
  return manifest + "]}";
}

// An image with one layer per file, each a tar+gzip holding that file, and a config whose
// diff_ids match, so that clients which unpack or verify layers accept it.
Image MakeImage(const std::vector<std::string>& files) {
  std::vector<Blob> layers;
  std::string diff_ids;
  for (size_t i = 0; i < files.size(); ++i) {
    std::string tar = Tar("file" + std::to_string(i), files[i]);
    diff_ids += (i > 0 ? ",\"" : "\"") + Sha256(tar) + "\"";
    layers.push_back(MakeBlob(kLayerType, Gzip(tar)));
  }
  std::string config =
      R"({"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[)" + diff_ids +
      "]}}";
  Image image{MakeBlob(kConfigType, std::move(config)), std::move(layers), {}, {}};
  image.manifest = ManifestJson(image.config, image.layers);
  image.digest = Sha256(image.manifest);
  return image;
}

// The path of an upload Location, which may be an absolute URL or a path. Requests still go to
// --host: this client never follows a registry anywhere else.
std::string LocationPath(const std::string& location) {
  if (location.starts_with("/")) return location;
  size_t scheme = location.find("://");
  if (scheme == std::string::npos) return {};
  size_t path = location.find('/', scheme + 3);
  return path == std::string::npos ? std::string() : location.substr(path);
}

// Completes the upload session that `opened` (the response to `what`) started, sending the whole
// blob in one PUT; the Location may carry the registry's own query (distribution's _state).
bool PutBlob(httplib::Client& client, const std::string& what, const httplib::Response& opened,
             const Blob& blob, Errors& errors) {
  std::string location = LocationPath(opened.get_header_value("Location"));
  if (location.empty()) {
    errors.Add("POST " + what + ": status 202 without a usable Location");
    return false;
  }
  location += location.find('?') == std::string::npos ? "?" : "&";
  location += "digest=" + blob.digest;
  auto result = client.Put(location, blob.content, "application/octet-stream");
  return Expect(result, 201, "PUT", location, errors);
}

bool PushBlob(httplib::Client& client, const std::string& repo, const Blob& blob, Errors& errors) {
  std::string path = "/v2/" + repo + "/blobs/uploads/";
  auto result = client.Post(path);
  return Expect(result, 202, "POST", path, errors) && PutBlob(client, path, *result, blob, errors);
}

// Links a blob that `from` holds into `repo` without sending it. A registry may decline the
// mount with 202 and an upload session instead; the blob is then pushed into that session.
bool MountBlob(httplib::Client& client, const std::string& repo, const std::string& from,
               const Blob& blob, Errors& errors) {
  std::string path = "/v2/" + repo + "/blobs/uploads/?mount=" + blob.digest + "&from=" + from;
  auto result = client.Post(path);
  if (result && result->status == 202) return PutBlob(client, path, *result, blob, errors);
  return Expect(result, 201, "POST", path, errors);
}

bool PushImageBlobs(httplib::Client& client, const std::string& repo, const Image& image,
                    Errors& errors) {
  if (!PushBlob(client, repo, image.config, errors)) return false;
  for (const Blob& layer : image.layers) {
    if (!PushBlob(client, repo, layer, errors)) return false;
  }
  return true;
}

bool PutManifest(httplib::Client& client, const std::string& repo, const std::string& reference,
                 const Image& image, Errors& errors) {
  std::string path = "/v2/" + repo + "/manifests/" + reference;
  auto result = client.Put(path, image.manifest, kManifestType);
  if (!Expect(result, 201, "PUT", path, errors)) return false;
  // Another digest would mean the registry stored other bytes than were sent.
  std::string stored = result->get_header_value("Docker-Content-Digest");
  if (stored.empty() || stored == image.digest) return true;
  errors.Add("PUT " + path + ": Docker-Content-Digest " + stored + ", expected " + image.digest);
  return false;
}

// Runs work(client, i) for every i in [0, total) on --connections threads, each with its own
// keep-alive connection. Indexes come from a shared counter, so faster threads take more.
template <typename Work>
void RunParallel(const Options& options, long total, Work work) {
  std::atomic<long> next{0};
  std::vector<std::thread> threads;
  for (long t = 0; t < std::min(options.connections, total); ++t) {
    threads.emplace_back([&] {
      httplib::Client client = Connect(options);
      for (long i = next++; i < total; i = next++) work(client, i);
    });
  }
  for (auto& thread : threads) thread.join();
}

// Nearest-rank percentile of sorted samples.
double Percentile(const std::vector<double>& sorted, double fraction) {
  if (sorted.empty()) return 0;
  auto rank = static_cast<size_t>(std::ceil(fraction * static_cast<double>(sorted.size())));
  return sorted[std::max<size_t>(rank, 1) - 1];
}

// One attempt on a fresh connection. Any response counts, even 401: the server is answering.
// The read may wait until the deadline, since a server can accept before it can answer.
bool Responds(const Options& options, Clock::time_point deadline) {
  httplib::Client client(options.host, static_cast<int>(options.port));
  client.set_connection_timeout(0, 100000);
  auto left = std::chrono::duration_cast<std::chrono::microseconds>(deadline - Clock::now());
  client.set_read_timeout(std::max(left, std::chrono::microseconds(1000)));
  return static_cast<bool>(client.Get("/v2/"));
}

// Nanoseconds since the epoch on CLOCK_REALTIME (system_clock), the clock `date +%s%N` reads.
long WallNs() {
  auto now = std::chrono::system_clock::now().time_since_epoch();
  return static_cast<long>(std::chrono::duration_cast<std::chrono::nanoseconds>(now).count());
}

int WaitReady(const Options& options) {
  auto deadline = Clock::now() + std::chrono::seconds(options.timeout_s);
  long attempts = 0;
  while (Clock::now() < deadline) {
    ++attempts;
    if (Responds(options, deadline)) {
      double ready = static_cast<double>(WallNs() - options.since_ns) / 1e9;
      std::printf(R"({"ready_seconds":%.6f,"attempts":%ld,"errors":0})"
                  "\n",
                  ready, attempts);
      return 0;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  std::fprintf(stderr, "registry_load: GET /v2/: no response within %ld s\n", options.timeout_s);
  std::printf(R"({"ready_seconds":null,"attempts":%ld,"errors":1})"
              "\n",
              attempts);
  return 1;
}

bool GetOk(httplib::Client& client, const Options& options, Errors& errors) {
  auto result = client.Get(options.path, options.headers);
  if (result && result->status >= 200 && result->status < 300) return true;
  errors.Add(Describe("GET", options.path, result));
  return false;
}

int Latency(const Options& options) {
  httplib::Client client = Connect(options);
  Errors errors;
  // The warm-up opens the connection, which the timed requests then reuse.
  GetOk(client, options, errors);
  std::vector<double> ms;
  for (long i = 0; i < options.count; ++i) {
    auto start = Clock::now();
    if (GetOk(client, options, errors)) ms.push_back(Seconds(start) * 1e3);
  }
  std::sort(ms.begin(), ms.end());
  std::printf(R"({"count":%zu,"median_ms":%.3f,"p90_ms":%.3f,"errors":%ld})"
              "\n",
              ms.size(), Percentile(ms, 0.5), Percentile(ms, 0.9), errors.count());
  return ExitCode(errors);
}

int PushBlobs(const Options& options) {
  const std::string seed = RandomBytes(16);
  Errors errors;
  std::atomic<long> pushes{0};
  auto start = Clock::now();
  RunParallel(options, options.count, [&](httplib::Client& client, long i) {
    Blob blob = MakeBlob("", BlobContent(seed, i, options.size));
    if (PushBlob(client, options.repo, blob, errors)) ++pushes;
  });
  double seconds = Seconds(start);
  std::printf(R"({"pushes":%ld,"seconds":%.6f,"pushes_per_second":%.1f,"errors":%ld})"
              "\n",
              pushes.load(), seconds, static_cast<double>(pushes.load()) / seconds, errors.count());
  return ExitCode(errors);
}

int PushImages(const Options& options) {
  const std::string seed = RandomBytes(16);
  std::vector<Image> images;
  images.reserve(static_cast<size_t>(options.count));
  for (long i = 0; i < options.count; ++i) {
    images.push_back(MakeImage({BlobContent(seed, i, options.size)}));
  }
  Errors errors;
  std::atomic<long> pushed{0};
  auto start = Clock::now();
  RunParallel(options, options.count, [&](httplib::Client& client, long i) {
    const Image& image = images[static_cast<size_t>(i)];
    if (PushImageBlobs(client, options.repo, image, errors) &&
        PutManifest(client, options.repo, Numbered("t", i), image, errors)) {
      ++pushed;
    }
  });
  double seconds = Seconds(start);
  std::printf(R"({"images":%ld,"seconds":%.6f,"images_per_second":%.1f,"errors":%ld})"
              "\n",
              pushed.load(), seconds, static_cast<double>(pushed.load()) / seconds, errors.count());
  return ExitCode(errors);
}

// A tiny image whose layer is random, so every run creates new blobs and a new manifest.
Image SmallImage() { return MakeImage({RandomBytes(32)}); }

// Pushes the image's blobs into `repo` over one connection; the timed, parallel part follows.
bool SeedBlobs(const Options& options, const std::string& repo, const Image& image,
               Errors& errors) {
  httplib::Client client = Connect(options);
  return PushImageBlobs(client, repo, image, errors);
}

// The JSON line of populate-repos and populate-tags: how many `what` were made, and how fast.
int ReportPopulated(const char* what, long count, double seconds, const Errors& errors,
                    const Image& image) {
  std::printf(R"({"%s":%ld,"seconds":%.6f,"errors":%ld,"manifest_digest":"%s"})"
              "\n",
              what, count, seconds, errors.count(), image.digest.c_str());
  return ExitCode(errors);
}

int PopulateRepos(const Options& options) {
  const Image image = SmallImage();
  const std::string first = Numbered(options.prefix, 0);
  Errors errors;
  auto start = Clock::now();
  if (SeedBlobs(options, first, image, errors)) {
    RunParallel(options, options.count, [&](httplib::Client& client, long i) {
      std::string repo = Numbered(options.prefix, i);
      // The first repository already holds the blobs.
      bool linked = i == 0 || (MountBlob(client, repo, first, image.config, errors) &&
                               MountBlob(client, repo, first, image.layers[0], errors));
      if (linked) PutManifest(client, repo, "latest", image, errors);
    });
  }
  return ReportPopulated("repositories", options.count, Seconds(start), errors, image);
}

int PopulateTags(const Options& options) {
  const Image image = SmallImage();
  Errors errors;
  auto start = Clock::now();
  if (SeedBlobs(options, options.repo, image, errors)) {
    RunParallel(options, options.count, [&](httplib::Client& client, long i) {
      PutManifest(client, options.repo, Numbered("t", i), image, errors);
    });
  }
  return ReportPopulated("tags", options.count, Seconds(start), errors, image);
}

int PushImage(const Options& options) {
  std::vector<std::string> files;
  for (long i = 0; i < options.layers; ++i) files.push_back(RandomBytes(options.layer_size));
  const Image image = MakeImage(files);
  Errors errors;
  auto start = Clock::now();
  httplib::Client client = Connect(options);
  if (PushImageBlobs(client, options.repo, image, errors)) {
    PutManifest(client, options.repo, options.tag, image, errors);
  }
  double seconds = Seconds(start);
  // The layer digests let the caller address the image's blobs (HEAD and GET rates).
  std::string layer_digests;
  for (const Blob& layer : image.layers) {
    layer_digests += (layer_digests.empty() ? "\"" : ",\"") + layer.digest + "\"";
  }
  std::printf(R"({"layers":%ld,"seconds":%.6f,"errors":%ld,"manifest_digest":"%s",)"
              R"("layer_digests":[%s]})"
              "\n",
              options.layers, seconds, errors.count(), image.digest.c_str(), layer_digests.c_str());
  return ExitCode(errors);
}

// Per-subcommand checks of the options; each returns a usage error, or "" when all is well.
std::string NeedCount(Options& options, long fallback) {
  if (options.count == 0) options.count = fallback;
  if (options.count == 0) return "--count is required";
  return options.count <= kMaxNames ? "" : "--count is at most " + std::to_string(kMaxNames);
}

std::string CheckWaitReady(Options& options) {
  return options.since_ns > 0 ? "" : "--since-ns is required";
}

std::string CheckLatency(Options& options) {
  if (!options.path.starts_with("/")) return "--path must start with /";
  return NeedCount(options, 200);
}

std::string CheckPushBlobs(Options& options) {
  if (options.repo.empty()) return "--repo is required";
  // Room for the seed and the index, which keep every blob distinct.
  if (options.size < 32 || options.size > kMaxBlobSize) return "--size is out of range";
  return NeedCount(options, 200);
}

std::string CheckPushImages(Options& options) {
  if (options.repo.empty()) return "--repo is required";
  if (options.size < 32 || options.size > kMaxBlobSize) return "--size is out of range";
  std::string problem = NeedCount(options, 200);
  // Every image is built in memory before the clock starts.
  if (problem.empty() && options.count * options.size > kMaxImageSize) {
    return "--count times --size is too large";
  }
  return problem;
}

std::string CheckPopulateRepos(Options& options) {
  if (options.prefix.empty()) return "--prefix must not be empty";
  return NeedCount(options, 0);
}

std::string CheckPopulateTags(Options& options) {
  if (options.repo.empty()) return "--repo is required";
  return NeedCount(options, 0);
}

std::string CheckPushImage(Options& options) {
  if (options.repo.empty() || options.tag.empty()) return "--repo and --tag are required";
  if (options.layers == 0 || options.layer_size == 0) {
    return "--layers and --layer-size are required";
  }
  if (options.layer_size > kMaxBlobSize || options.layers * options.layer_size > kMaxImageSize) {
    return "--layer-size is too large";
  }
  return "";
}

struct Command {
  std::string_view name;
  std::string (*check)(Options&);
  int (*run)(const Options&);
};

constexpr Command kCommands[] = {
    {"wait-ready", CheckWaitReady, WaitReady},
    {"latency", CheckLatency, Latency},
    {"push-blobs", CheckPushBlobs, PushBlobs},
    {"push-images", CheckPushImages, PushImages},
    {"populate-repos", CheckPopulateRepos, PopulateRepos},
    {"populate-tags", CheckPopulateTags, PopulateTags},
    {"push-image", CheckPushImage, PushImage},
};

bool ParseNumber(std::string_view text, long min, long max, long& value) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return ec == std::errc() && end == text.data() + text.size() && value >= min && value <= max;
}

// "Name: value" into `headers`; false when there is no name.
bool ParseHeader(const std::string& text, httplib::Headers& headers) {
  size_t colon = text.find(':');
  if (colon == 0 || colon == std::string::npos) return false;
  size_t value = text.find_first_not_of(' ', colon + 1);
  headers.emplace(text.substr(0, colon), value == std::string::npos ? "" : text.substr(value));
  return true;
}

// Sets the option `name` from `value`; false when the name is unknown or the value is bad.
bool SetOption(const std::string& name, const std::string& value, Options& options) {
  const struct {
    const char* name;
    long* target;
    long min, max;
  } numbers[] = {
      {"--port", &options.port, 1, 65535},
      {"--count", &options.count, 1, 10000000},
      {"--size", &options.size, 1, kMaxBlobSize},
      {"--connections", &options.connections, 1, 256},
      {"--layers", &options.layers, 1, 1000},
      {"--layer-size", &options.layer_size, 1, kMaxBlobSize},
      {"--timeout-s", &options.timeout_s, 1, 3600},
      {"--since-ns", &options.since_ns, 1, std::numeric_limits<long>::max()},
  };
  for (const auto& number : numbers) {
    if (name == number.name) return ParseNumber(value, number.min, number.max, *number.target);
  }
  if (name == "--header") return ParseHeader(value, options.headers);
  std::string* text = name == "--host"     ? &options.host
                      : name == "--path"   ? &options.path
                      : name == "--repo"   ? &options.repo
                      : name == "--tag"    ? &options.tag
                      : name == "--prefix" ? &options.prefix
                                           : nullptr;
  if (text == nullptr) return false;
  *text = value;
  return true;
}

// Fills `options` from argv (every option takes a value); an error message, or "".
std::string Parse(int argc, char** argv, Options& options) {
  if (argc < 2) return "no subcommand";
  options.command = argv[1];
  for (int i = 2; i < argc; i += 2) {
    std::string name = argv[i];
    if (i + 1 >= argc) return "missing value for " + name;
    if (!SetOption(name, argv[i + 1], options)) return "bad option " + name + " " + argv[i + 1];
  }
  if (options.host.empty() || options.port == 0) return "--host and --port are required";
  return "";
}

const Command* FindCommand(std::string_view name) {
  for (const Command& command : kCommands) {
    if (command.name == name) return &command;
  }
  return nullptr;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  std::string problem = Parse(argc, argv, options);
  const Command* command = FindCommand(options.command);
  if (problem.empty() && command == nullptr) problem = "unknown subcommand " + options.command;
  if (problem.empty()) problem = command->check(options);
  if (problem.empty()) return command->run(options);
  std::fprintf(stderr, "registry_load: %s\n%s", problem.c_str(), kUsage);
  return 2;
}
