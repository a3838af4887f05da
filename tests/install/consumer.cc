// SPDX-License-Identifier: Apache-2.0
// A program outside the build that uses the installed library through pkg-config (.ci/run builds
// it).
#include <ocireg/ocireg.h>

#include <cstdio>
#include <memory>
#include <string>
#include <string_view>

namespace {

// Prints what went wrong and reports failure to main().
bool Fail(std::string_view what, const ocireg::Status& status) {
  std::fprintf(stderr, "consumer: %.*s: %s\n", static_cast<int>(what.size()), what.data(),
               status.ToString().c_str());
  return false;
}

// Stores a small blob through an upload session and reads it back.
bool RoundTrip() {
  constexpr std::string_view kContent = "installed";
  constexpr std::string_view kRepo = "consumer/check";

  auto parsed = ocireg::Digest::Parse(
      "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  if (!parsed.ok()) return Fail("parse a digest", parsed.status());
  if (*parsed != ocireg::Digester::Of(ocireg::DigestAlgorithm::kSha256, "")) {
    return Fail("digest of nothing", ocireg::Internal("differs from the known value"));
  }

  auto store = ocireg::OpenStore(ocireg::NewMemoryDriver());
  if (!store.ok()) return Fail("open a memory store", store.status());

  auto upload = (*store)->StartUpload(kRepo, ocireg::DigestAlgorithm::kSha256);
  if (!upload.ok()) return Fail("start an upload", upload.status());
  ocireg::Status appended = (*upload)->Append({kContent.data(), kContent.size()});
  if (!appended.ok()) return Fail("append", appended);
  const ocireg::Digest digest = ocireg::Digester::Of(ocireg::DigestAlgorithm::kSha256, kContent);
  auto committed = (*upload)->Commit(digest);
  if (!committed.ok()) return Fail("commit", committed.status());

  auto reader = (*store)->OpenBlob(kRepo, digest);
  if (!reader.ok()) return Fail("open the blob", reader.status());
  std::string back(kContent.size() + 1, '\0');
  auto read = (*reader)->ReadAt(0, back);
  if (!read.ok()) return Fail("read the blob", read.status());
  back.resize(*read);
  if (back != kContent) return Fail("read the blob", ocireg::Internal("got '" + back + "'"));
  return true;
}

}  // namespace

int main() {
  if (!RoundTrip()) return 1;
  std::puts("consumer: stored and read a blob through the installed library");
  return 0;
}
