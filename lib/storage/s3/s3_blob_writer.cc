// SPDX-License-Identifier: Apache-2.0
// S3BlobWriter (s3_blob_writer.h): parts, checkpoints and the commit of a blob in a bucket.
#include "storage/s3/s3_blob_writer.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <cstring>

#include "storage/layout.h"
#include "storage/path.h"

namespace ocireg::internal::s3 {
namespace {

// S3 takes at most this many parts in one multipart upload.
constexpr size_t kMaxParts = 10000;

// Reads the part of a blob that is still in memory: all of it, when it never filled a part.
class TailReader final : public FileReader {
 public:
  explicit TailReader(std::string bytes) : bytes_(std::move(bytes)) {}
  uint64_t size() const override { return bytes_.size(); }
  Result<size_t> ReadAt(uint64_t offset, std::span<char> buffer) override {
    if (offset >= bytes_.size()) return size_t{0};
    size_t count = std::min<uint64_t>(buffer.size(), bytes_.size() - offset);
    std::memcpy(buffer.data(), bytes_.data() + offset, count);
    return count;
  }

 private:
  const std::string bytes_;
};

std::string_view Str(const rapidjson::Value& value) {
  return {value.GetString(), value.GetStringLength()};
}

}  // namespace

Result<std::unique_ptr<BlobWriter>> S3BlobWriter::Open(S3Client& client, const KeyMap& keys,
                                                       std::string path, uint64_t part_size) {
  auto writer = std::make_unique<S3BlobWriter>(client, keys, std::move(path), part_size);
  auto content = client.Get(keys.Key(writer->path_), part_size + (16u << 20));
  if (!content.ok() && !IsNotFound(content.status())) return content.status();
  if (content.ok()) OCIREG_RETURN_IF_ERROR(writer->Restore(*content));
  return std::unique_ptr<BlobWriter>(std::move(writer));
}

std::string S3BlobWriter::Serialize(std::string_view state) const {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  auto string = [&](std::string_view text) {
    w.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
  };
  w.StartObject();
  w.Key("part_size");
  w.Uint64(part_size_);
  w.Key("upload");
  string(upload_id_);
  w.Key("data");
  string(data_);
  w.Key("parts");
  w.StartArray();
  for (const std::string& etag : parts_) string(etag);
  w.EndArray();
  w.Key("state");
  string(state);
  w.EndObject();
  std::string out(buffer.GetString(), buffer.GetSize());
  out += '\n';
  out += tail_;
  return out;
}

Status S3BlobWriter::Restore(std::string_view content) {
  auto invalid = [&] { return Internal(path_ + ": not a blob writer's checkpoint"); };
  size_t newline = content.find('\n');
  if (newline == std::string_view::npos) return invalid();
  rapidjson::Document doc;
  doc.Parse(content.data(), newline);
  if (doc.HasParseError() || !doc.IsObject()) return invalid();
  for (const char* name : {"upload", "data", "state"}) {
    if (!doc.HasMember(name) || !doc[name].IsString()) return invalid();
  }
  if (!doc.HasMember("part_size") || !doc["part_size"].IsUint64() || !doc.HasMember("parts") ||
      !doc["parts"].IsArray() || doc["parts"].Size() > kMaxParts) {
    return invalid();
  }
  // The parts already sent keep the size they were sent with, whatever this process would use.
  part_size_ = doc["part_size"].GetUint64();
  if (part_size_ == 0) return invalid();
  upload_id_ = Str(doc["upload"]);
  data_ = Str(doc["data"]);
  for (const auto& etag : doc["parts"].GetArray()) {
    if (!etag.IsString()) return invalid();
    parts_.emplace_back(Str(etag));
  }
  tail_ = content.substr(newline + 1);
  if (tail_.size() >= part_size_ || (!parts_.empty() && upload_id_.empty())) return invalid();
  resumed_state_ = Str(doc["state"]);
  saved_size_ = size();
  return Status::Ok();
}

Status S3BlobWriter::CheckOpen() const {
  if (spent_) return InvalidArgument(path_ + ": the blob writer was committed");
  return Status::Ok();
}

S3BlobWriter::~S3BlobWriter() {
  // The part being sent reads sending_bytes_ and uses the client.
  if (sending_ && sending_->valid()) sending_->wait();
}

Status S3BlobWriter::StartUpload() {
  if (!upload_id_.empty()) return Status::Ok();
  auto id = NewUploadId();
  OCIREG_RETURN_IF_ERROR(id);
  std::string data = std::string(kDataDir) + "/" + *id;
  auto upload = client_.CreateMultipart(keys_.Key(data), {{std::string(kWriterMeta), path_}});
  OCIREG_RETURN_IF_ERROR(upload);
  upload_id_ = *upload;
  data_ = std::move(data);
  return Status::Ok();
}

Status S3BlobWriter::Drain() {
  if (!sending_) return broken_;
  auto etag = sending_->get();
  sending_.reset();
  sending_bytes_.clear();
  if (etag.ok()) {
    parts_.back() = std::move(*etag);
  } else if (broken_.ok()) {
    broken_ = etag.status();
  }
  return broken_;
}

Status S3BlobWriter::SendPart(std::string bytes) {
  OCIREG_RETURN_IF_ERROR(Drain());
  if (parts_.size() >= kMaxParts) {
    return SizeInvalid("a blob takes at most " + std::to_string(kMaxParts) + " parts of " +
                       std::to_string(part_size_) + " bytes");
  }
  OCIREG_RETURN_IF_ERROR(StartUpload());
  parts_.emplace_back();  // its ETag, once sent
  sending_bytes_ = std::move(bytes);
  const auto number = static_cast<uint32_t>(parts_.size());
  sending_ = std::async(std::launch::async, [this, number] {
    return client_.UploadPart(keys_.Key(data_), upload_id_, number, sending_bytes_);
  });
  return Status::Ok();
}

Status S3BlobWriter::Append(std::span<const char> bytes) {
  OCIREG_RETURN_IF_ERROR(CheckOpen());
  OCIREG_RETURN_IF_ERROR(broken_);
  while (!bytes.empty()) {
    if (tail_.empty()) tail_.reserve(part_size_);
    size_t take = std::min<uint64_t>(part_size_ - tail_.size(), bytes.size());
    tail_.append(bytes.data(), take);
    bytes = bytes.subspan(take);
    if (tail_.size() == part_size_) {
      OCIREG_RETURN_IF_ERROR(SendPart(std::move(tail_)));
      tail_ = std::string();
    }
  }
  return Status::Ok();
}

Status S3BlobWriter::RestoreCheckpoint() {
  (void)Drain();
  broken_ = Status::Ok();
  parts_.clear();
  tail_.clear();
  upload_id_.clear();
  data_.clear();
  resumed_state_.clear();
  auto content = client_.Get(keys_.Key(path_), part_size_ + (16u << 20));
  if (IsNotFound(content.status())) {
    saved_size_ = 0;
    return Status::Ok();
  }
  OCIREG_RETURN_IF_ERROR(content);
  return Restore(*content);
}

Status S3BlobWriter::Truncate(uint64_t size) {
  OCIREG_RETURN_IF_ERROR(CheckOpen());
  if (size > this->size()) return InvalidArgument("truncate " + path_ + " past its end");
  const uint64_t in_parts = parts_.size() * part_size_;
  if (size >= in_parts && broken_.ok()) {
    tail_.resize(size - in_parts);
    return Status::Ok();
  }
  // Parts sent cannot be read back, but the checkpoint holds the tail it had. Parts after it are
  // left to be overwritten or ignored: completion names the parts it joins.
  if (size == saved_size_) return RestoreCheckpoint();
  return InvalidArgument("truncate " + path_ + ": bytes sent in parts since the checkpoint");
}

Status S3BlobWriter::Checkpoint(std::string_view state) {
  OCIREG_RETURN_IF_ERROR(CheckOpen());
  OCIREG_RETURN_IF_ERROR(Drain());
  PutOptions options;
  options.metadata = {{std::string(kWriterMeta), "1"},
                      {std::string(kUploadMeta), upload_id_},
                      {std::string(kDataMeta), data_}};
  OCIREG_RETURN_IF_ERROR(client_.Put(keys_.Key(path_), Serialize(state), options));
  saved_size_ = size();
  return Status::Ok();
}

Result<std::unique_ptr<FileReader>> S3BlobWriter::OpenReader() {
  OCIREG_RETURN_IF_ERROR(CheckOpen());
  OCIREG_RETURN_IF_ERROR(Drain());
  if (!parts_.empty()) {
    return Unsupported(path_ + ": the parts of a multipart upload cannot be read back");
  }
  return std::unique_ptr<FileReader>(std::make_unique<TailReader>(tail_));
}

Status S3BlobWriter::CommitParts(std::string_view path) {
  // Counted before the tail goes out as a last part, which size() would count as a full one.
  const uint64_t total = size();
  if (!tail_.empty()) {
    OCIREG_RETURN_IF_ERROR(SendPart(std::move(tail_)));
    tail_ = std::string();
  }
  OCIREG_RETURN_IF_ERROR(Drain());
  std::vector<CompletedPart> parts;
  parts.reserve(parts_.size());
  for (size_t i = 0; i < parts_.size(); ++i) {
    parts.push_back({static_cast<uint32_t>(i + 1), parts_[i]});
  }
  // The owner is recorded first: once the upload's object exists, whoever finds it can tell
  // whether the path still refers to it.
  const std::string owner = data_ + std::string(kOwnerSuffix);
  OCIREG_RETURN_IF_ERROR(client_.Put(keys_.Key(owner), path));
  OCIREG_RETURN_IF_ERROR(client_.CompleteMultipart(keys_.Key(data_), upload_id_, parts));
  PutOptions ref;
  ref.metadata = {{std::string(kRefMeta), data_},
                  {std::string(kSizeMeta), std::to_string(total)},
                  {std::string(kOwnerMeta), "1"}};
  ref.if_none_match_star = true;
  Status made = client_.Put(keys_.Key(path), "", ref).status();
  if (IsAlreadyExists(made)) {
    // The same blob is there already: ours goes.
    (void)client_.Delete(keys_.Key(data_));
    (void)client_.Delete(keys_.Key(owner));
  }
  return made;
}

Status S3BlobWriter::Commit(std::string_view path) {
  OCIREG_RETURN_IF_ERROR(CheckOpen());
  OCIREG_RETURN_IF_ERROR(CheckS3Path(path));
  OCIREG_RETURN_IF_ERROR(Drain());
  spent_ = true;
  Status made;
  if (parts_.empty()) {
    PutOptions options;
    options.if_none_match_star = true;
    made = client_.Put(keys_.Key(path), tail_, options).status();
  } else {
    made = CommitParts(path);
  }
  if (!made.ok() && !IsAlreadyExists(made)) return made;
  // The checkpoint goes last: until then a failed commit can be found and cleaned up.
  OCIREG_RETURN_IF_ERROR(client_.Delete(keys_.Key(path_)));
  return made;
}

}  // namespace ocireg::internal::s3
