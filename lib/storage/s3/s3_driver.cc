// SPDX-License-Identifier: Apache-2.0
// S3Driver's file operations: stat, list, read, write, link and remove over the bucket.
#include "storage/s3/s3_driver.h"

#include <algorithm>
#include <charconv>

#include "storage/path.h"
#include "storage/s3/s3_blob_writer.h"
#include "storage/s3/s3_reader.h"

namespace ocireg::internal::s3 {
namespace {

std::string MetaOf(const ObjectHead& head, std::string_view name) {
  auto it = head.metadata.find(std::string(name));
  return it == head.metadata.end() ? std::string() : it->second;
}

bool IsRef(const ObjectHead& head) { return !MetaOf(head, kRefMeta).empty(); }

// A reference's blob size; kInternal when its metadata is damaged.
Result<uint64_t> RefSize(const ObjectHead& head, std::string_view path) {
  std::string text = MetaOf(head, kSizeMeta);
  uint64_t size = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), size);
  if (error != std::errc() || end != text.data() + text.size()) {
    return Internal(std::string(path) + ": a reference without a valid size");
  }
  return size;
}

}  // namespace

Status CheckS3Path(std::string_view path) {
  OCIREG_RETURN_IF_ERROR(ValidateDriverPath(path));
  if (path.substr(0, path.find('/')) == kDataDir) {
    return InvalidArgument("invalid storage path \"" + std::string(path) +
                           "\": reserved by the driver");
  }
  return Status::Ok();
}

Result<S3Driver::Located> S3Driver::Locate(std::string_view path) {
  OCIREG_RETURN_IF_ERROR(CheckS3Path(path));
  auto head = client_->Head(keys_.Key(path));
  OCIREG_RETURN_IF_ERROR(head);
  Located located{std::string(path), head->size, std::move(*head)};
  if (IsRef(located.head)) {
    auto size = RefSize(located.head, path);
    OCIREG_RETURN_IF_ERROR(size);
    located.path = MetaOf(located.head, kRefMeta);
    located.size = *size;
  }
  return located;
}

Result<std::vector<ObjectSummary>> S3Driver::ListBelow(std::string_view path, bool recursive,
                                                       std::vector<std::string>* prefixes) {
  ListRequest request;
  request.prefix = keys_.DirPrefix(path);
  if (!recursive) request.delimiter = "/";
  std::vector<ObjectSummary> objects;
  // Bounded by the listing's size: each page moves on, and S3 ends with an untruncated page.
  for (;;) {
    auto page = client_->List(request);
    OCIREG_RETURN_IF_ERROR(page);
    objects.insert(objects.end(), page->objects.begin(), page->objects.end());
    if (prefixes) {
      prefixes->insert(prefixes->end(), page->common_prefixes.begin(), page->common_prefixes.end());
    }
    if (!page->truncated || page->next_continuation_token.empty()) break;
    request.continuation_token = page->next_continuation_token;
  }
  return objects;
}

Result<FileInfo> S3Driver::Stat(std::string_view path) {
  auto located = Locate(path);
  if (located.ok()) return FileInfo{located->size, false, located->head.last_modified};
  if (!IsNotFound(located.status())) return located.status();
  // No object: a directory when something lies below it. Its time is that of its newest entry.
  ListRequest request;
  request.prefix = keys_.DirPrefix(path);
  auto page = client_->List(request);
  OCIREG_RETURN_IF_ERROR(page);
  if (page->objects.empty()) return NotFound(std::string(path) + ": no such object");
  FileInfo info{0, true, {}};
  for (const ObjectSummary& object : page->objects) {
    info.modified = std::max(info.modified, object.last_modified);
  }
  return info;
}

Result<FileInfo> S3Driver::StatFile(std::string_view path) {
  auto located = Locate(path);
  OCIREG_RETURN_IF_ERROR(located);
  return FileInfo{located->size, false, located->head.last_modified};
}

Result<std::vector<std::string>> S3Driver::List(std::string_view path) {
  if (!path.empty()) OCIREG_RETURN_IF_ERROR(CheckS3Path(path));
  std::vector<std::string> prefixes;
  auto objects = ListBelow(path, false, &prefixes);
  OCIREG_RETURN_IF_ERROR(objects);
  const size_t skip = keys_.DirPrefix(path).size();
  std::vector<std::string> names;
  for (const ObjectSummary& object : *objects) names.push_back(object.key.substr(skip));
  for (const std::string& prefix : prefixes) {
    std::string name = prefix.substr(skip, prefix.size() - skip - 1);  // without the '/'
    if (path.empty() && name == kDataDir) continue;
    names.push_back(std::move(name));
  }
  std::erase_if(names, [](const std::string& name) { return name.empty(); });
  if (names.empty() && !path.empty()) return NotFound(std::string(path) + ": no such directory");
  return names;
}

Result<std::string> S3Driver::ReadFile(std::string_view path) {
  OCIREG_RETURN_IF_ERROR(CheckS3Path(path));
  auto content = client_->Get(keys_.Key(path));
  OCIREG_RETURN_IF_ERROR(content);
  // A reference has no content of its own: an empty answer may be one.
  if (!content->empty()) return content;
  auto located = Locate(path);
  OCIREG_RETURN_IF_ERROR(located);
  if (located->path == path) return content;
  return client_->Get(keys_.Key(located->path));
}

Status S3Driver::WriteFileAtomic(std::string_view path, std::string_view data,
                                 Durability /*durability*/) {
  OCIREG_RETURN_IF_ERROR(CheckS3Path(path));
  // A PUT is atomic and durable once answered.
  return client_->Put(keys_.Key(path), data).status();
}

Result<VersionedFile> S3Driver::ReadVersioned(std::string_view path) {
  OCIREG_RETURN_IF_ERROR(CheckS3Path(path));
  auto got = client_->GetVersioned(keys_.Key(path));
  OCIREG_RETURN_IF_ERROR(got);
  return VersionedFile{std::move(got->body), std::move(got->etag)};
}

Result<std::optional<VersionedFile>> S3Driver::ReadVersionedIfChanged(std::string_view path,
                                                                      std::string_view version) {
  // No version to compare with: any file there is news.
  if (version.empty()) return StorageDriver::ReadVersionedIfChanged(path, version);
  OCIREG_RETURN_IF_ERROR(CheckS3Path(path));
  auto got = client_->GetIfChanged(keys_.Key(path), version);
  OCIREG_RETURN_IF_ERROR(got);
  if (!got->has_value()) return std::optional<VersionedFile>();
  return std::optional<VersionedFile>(
      VersionedFile{std::move((*got)->body), std::move((*got)->etag)});
}

Result<std::string> S3Driver::ReplaceFile(std::string_view path, std::string_view data,
                                          std::string_view version, Durability /*durability*/) {
  OCIREG_RETURN_IF_ERROR(CheckS3Path(path));
  PutOptions options;
  if (version.empty()) {
    options.if_none_match_star = true;
  } else {
    options.if_match = std::string(version);
  }
  auto written = client_->Put(keys_.Key(path), data, options);
  // If-Match on a missing object says 404: it was replaced by nothing, which is a change too.
  if (!written.ok() && IsNotFound(written.status())) {
    return AlreadyExists(std::string(path) + ": removed since it was read");
  }
  return written;
}

Result<std::unique_ptr<FileReader>> S3Driver::OpenReader(std::string_view path) {
  auto located = Locate(path);
  OCIREG_RETURN_IF_ERROR(located);
  return std::unique_ptr<FileReader>(
      std::make_unique<S3Reader>(*client_, keys_.Key(located->path), located->size));
}

Result<std::unique_ptr<BlobWriter>> S3Driver::OpenBlobWriter(std::string_view path,
                                                             Durability /*durability*/) {
  OCIREG_RETURN_IF_ERROR(CheckS3Path(path));
  return S3BlobWriter::Open(*client_, keys_, std::string(path), part_size_);
}

Status S3Driver::Rewrite(const std::string& key, const ObjectHead* known) {
  ObjectHead head;
  if (known == nullptr) {
    auto found = client_->Head(key);
    OCIREG_RETURN_IF_ERROR(found);
    head = std::move(*found);
    known = &head;
  }
  PutOptions again;
  again.metadata = known->metadata;
  again.if_match = known->etag;
  std::string content;
  if (!IsRef(*known)) {
    auto got = client_->GetVersioned(key);
    OCIREG_RETURN_IF_ERROR(got);
    content = std::move(got->body);
    again.if_match = got->etag;
  }
  return client_->Put(key, content, again).status();
}

Status S3Driver::Link(std::string_view from, std::string_view to, Durability /*durability*/) {
  OCIREG_RETURN_IF_ERROR(CheckS3Path(to));
  auto source = Locate(from);
  OCIREG_RETURN_IF_ERROR(source);
  PutOptions ref;
  ref.metadata = {{std::string(kRefMeta), source->path},
                  {std::string(kSizeMeta), std::to_string(source->size)}};
  ref.if_none_match_star = true;
  Status made = client_->Put(keys_.Key(to), "", ref).status();
  if (IsAlreadyExists(made)) {
    // Refreshed as the contract asks: rewritten as it is, only while it is the same object. A
    // reference has no content to fetch first.
    (void)Rewrite(keys_.Key(to));
  }
  // The source's time too, when it is a reference that owns its bytes: a new name is never seen
  // with an older time. Only while it is still the same object (If-Match).
  if (IsRef(source->head) && (made.ok() || IsAlreadyExists(made))) {
    (void)Rewrite(keys_.Key(from), &source->head);
  }
  return made;
}

Status S3Driver::Discard(const std::string& key, const ObjectHead& head) {
  std::string upload = MetaOf(head, kUploadMeta);
  std::string data = MetaOf(head, kDataMeta);
  if (MetaOf(head, kWriterMeta) == "1" && !upload.empty() && !data.empty()) {
    OCIREG_RETURN_IF_ERROR(client_->AbortMultipart(keys_.Key(data), upload));
  }
  OCIREG_RETURN_IF_ERROR(client_->Delete(key));
  if (MetaOf(head, kOwnerMeta) == "1" && IsRef(head)) {
    std::string owned = MetaOf(head, kRefMeta);
    OCIREG_RETURN_IF_ERROR(client_->Delete(keys_.Key(owned)));
    OCIREG_RETURN_IF_ERROR(client_->Delete(keys_.Key(owned + std::string(kOwnerSuffix))));
  }
  return Status::Ok();
}

Status S3Driver::DiscardIfPresent(const std::string& key) {
  auto head = client_->Head(key);
  if (!head.ok()) return IsNotFound(head.status()) ? Status::Ok() : head.status();
  return Discard(key, *head);
}

Status S3Driver::Remove(std::string_view path) {
  OCIREG_RETURN_IF_ERROR(CheckS3Path(path));
  const std::string key = keys_.Key(path);
  auto head = client_->Head(key);
  OCIREG_RETURN_IF_ERROR(head);
  return Discard(key, *head);
}

Status S3Driver::RemoveTree(std::string_view path) {
  OCIREG_RETURN_IF_ERROR(CheckS3Path(path));
  auto below = ListBelow(path, true, nullptr);
  OCIREG_RETURN_IF_ERROR(below);
  for (const ObjectSummary& object : *below) {
    OCIREG_RETURN_IF_ERROR(DiscardIfPresent(object.key));
  }
  // Given a file, RemoveTree removes it. A path is a file or a directory, never both (nothing
  // this driver writes makes both), so a directory found saves the look for a file.
  if (!below->empty()) return Status::Ok();
  return DiscardIfPresent(keys_.Key(path));
}

}  // namespace ocireg::internal::s3
