// SPDX-License-Identifier: Apache-2.0
#include "storage/s3/xml_reader.h"

#include <expat.h>

#include <climits>
#include <memory>
#include <vector>

namespace ocireg::internal::s3 {

namespace {

class Reader {
 public:
  Reader(XML_Parser parser, const XmlVisitor& visitor, const XmlLimits& limits)
      : parser_(parser), visitor_(visitor), limits_(limits) {}

  static void XMLCALL Start(void* self, const XML_Char* name, const XML_Char** /*attributes*/) {
    static_cast<Reader*>(self)->Open(name);
  }
  static void XMLCALL End(void* self, const XML_Char* /*name*/) {
    static_cast<Reader*>(self)->Close();
  }
  static void XMLCALL Characters(void* self, const XML_Char* text, int size) {
    static_cast<Reader*>(self)->Append(std::string_view(text, static_cast<size_t>(size)));
  }
  static void XMLCALL Doctype(void* self, const XML_Char* /*name*/, const XML_Char* /*sysid*/,
                              const XML_Char* /*pubid*/, int /*has_internal_subset*/) {
    static_cast<Reader*>(self)->Fail("a document type declaration");
  }

  const std::string& root() const { return root_; }
  const std::string& failure() const { return failure_; }

 private:
  void Open(std::string_view name) {
    if (depth_ == limits_.max_depth) return Fail("elements nested too deep");
    if (depth_ == 0) root_ = name;
    starts_.push_back(path_.size());
    if (depth_ > 0) path_ += '/';
    path_ += name;
    ++depth_;
    text_.clear();
    if (visitor_.open) visitor_.open(path_);
  }

  void Close() {
    if (visitor_.text) visitor_.text(path_, text_);
    text_.clear();
    path_.resize(starts_.back());
    starts_.pop_back();
    --depth_;
  }

  void Append(std::string_view text) {
    if (text_.size() + text.size() > limits_.max_text) return Fail("an element's text too long");
    text_ += text;
  }

  void Fail(std::string_view why) {
    if (failure_.empty()) failure_ = why;
    XML_StopParser(parser_, XML_FALSE);
  }

  XML_Parser parser_;
  const XmlVisitor& visitor_;
  const XmlLimits& limits_;
  std::string root_;
  std::string path_;
  std::vector<size_t> starts_;  // where each open element's name starts in path_
  size_t depth_ = 0;
  std::string text_;
  std::string failure_;
};

struct ParserFree {
  void operator()(XML_Parser parser) const { XML_ParserFree(parser); }
};

}  // namespace

Result<std::string> ReadXml(std::string_view body, const XmlVisitor& visitor,
                            const XmlLimits& limits) {
  if (body.size() > limits.max_body || body.size() > INT_MAX) {
    return Unavailable("malformed XML answer: " + std::to_string(body.size()) + " bytes");
  }
  std::unique_ptr<XML_ParserStruct, ParserFree> parser(XML_ParserCreate("UTF-8"));
  if (!parser) return Internal("cannot make an XML parser: out of memory");
  Reader reader(parser.get(), visitor, limits);
  XML_SetUserData(parser.get(), &reader);
  XML_SetElementHandler(parser.get(), &Reader::Start, &Reader::End);
  XML_SetCharacterDataHandler(parser.get(), &Reader::Characters);
  XML_SetStartDoctypeDeclHandler(parser.get(), &Reader::Doctype);
  const XML_Status status =
      XML_Parse(parser.get(), body.data(), static_cast<int>(body.size()), XML_TRUE);
  if (!reader.failure().empty()) return Unavailable("malformed XML answer: " + reader.failure());
  if (status != XML_STATUS_OK) {
    return Unavailable(std::string("malformed XML answer: ") +
                       XML_ErrorString(XML_GetErrorCode(parser.get())) + " at line " +
                       std::to_string(XML_GetCurrentLineNumber(parser.get())));
  }
  return reader.root();
}

}  // namespace ocireg::internal::s3
