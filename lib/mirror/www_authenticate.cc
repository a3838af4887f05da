// SPDX-License-Identifier: Apache-2.0
// A scanner over RFC 9110's challenge grammar:
//   challenge  = auth-scheme [ 1*SP ( token68 / #auth-param ) ]
//   auth-param = token BWS "=" BWS ( token / quoted-string )
// Challenges and their parameters share the comma as separator, so after a comma one token of
// look-ahead tells them apart: "name =" starts a parameter, anything else a new challenge.
#include "mirror/www_authenticate.h"

#include <cctype>

namespace ocireg::internal {
namespace {

bool IsTokenChar(char c) {
  if (std::isalnum(static_cast<unsigned char>(c))) return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
      return true;
    default:
      return false;
  }
}

bool IsToken68Char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_' ||
         c == '~' || c == '+' || c == '/';
}

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

Status Malformed(std::string_view why) {
  return InvalidArgument("malformed WWW-Authenticate header: " + std::string(why));
}

class Scanner {
 public:
  explicit Scanner(std::string_view text) : text_(text) {}

  bool AtEnd() const { return pos_ >= text_.size(); }
  char Peek(size_t ahead = 0) const {
    return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0';
  }
  size_t pos() const { return pos_; }
  void Seek(size_t pos) { pos_ = pos; }

  // Optional white space: SP and HTAB.
  void SkipSpace() {
    while (!AtEnd() && (text_[pos_] == ' ' || text_[pos_] == '\t')) ++pos_;
  }

  std::string_view Token() {
    const size_t start = pos_;
    while (!AtEnd() && IsTokenChar(text_[pos_])) ++pos_;
    return text_.substr(start, pos_ - start);
  }

  // A token68 that stands alone: its characters, trailing '=', then the end or a comma.
  bool Token68(std::string& out) {
    const size_t start = pos_;
    size_t end = start;
    while (end < text_.size() && IsToken68Char(text_[end])) ++end;
    if (end == start) return false;
    while (end < text_.size() && text_[end] == '=') ++end;
    size_t after = end;
    while (after < text_.size() && (text_[after] == ' ' || text_[after] == '\t')) ++after;
    if (after < text_.size() && text_[after] != ',') return false;
    out.assign(text_.substr(start, end - start));
    pos_ = end;
    return true;
  }

  // A quoted-string after its opening quote has been seen; false on a bad character or no end.
  bool QuotedString(std::string& out) {
    ++pos_;  // the opening quote
    while (!AtEnd()) {
      const auto c = static_cast<unsigned char>(text_[pos_++]);
      if (c == '"') return true;
      if (c == '\\') {
        if (AtEnd()) return false;
        const auto escaped = static_cast<unsigned char>(text_[pos_++]);
        if (escaped != '\t' && (escaped < 0x20 || escaped == 0x7f)) return false;
        out.push_back(static_cast<char>(escaped));
        continue;
      }
      if (c != '\t' && (c < 0x20 || c == 0x7f)) return false;
      out.push_back(static_cast<char>(c));
    }
    return false;
  }

 private:
  std::string_view text_;
  size_t pos_ = 0;
};

// Whether the scanner stands at "token BWS =" (a parameter), without moving it.
bool AtParam(Scanner& in) {
  const size_t start = in.pos();
  const bool name = !in.Token().empty();
  in.SkipSpace();
  const bool param = name && in.Peek() == '=';
  in.Seek(start);
  return param;
}

// Skips commas and white space between list elements ("#rule" allows empty ones).
void SkipSeparators(Scanner& in) {
  while (true) {
    in.SkipSpace();
    if (in.Peek() != ',') return;
    in.Seek(in.pos() + 1);
  }
}

// The parameters of one challenge, up to the start of the next challenge or the end.
Status ParseParams(Scanner& in, AuthChallenge& challenge) {
  while (true) {
    std::string name = Lower(in.Token());
    in.SkipSpace();
    if (name.empty() || in.Peek() != '=') return Malformed("expected a parameter");
    in.Seek(in.pos() + 1);
    in.SkipSpace();
    std::string value;
    if (in.Peek() == '"') {
      if (!in.QuotedString(value)) return Malformed("bad quoted string");
    } else {
      value = in.Token();
      if (value.empty()) return Malformed("parameter without a value");
    }
    if (challenge.Param(name) != nullptr) return Malformed("parameter given twice");
    if (challenge.params.size() == kMaxChallengeParams) return Malformed("too many parameters");
    challenge.params.emplace_back(std::move(name), std::move(value));
    in.SkipSpace();
    if (in.AtEnd()) return Status();
    if (in.Peek() != ',') return Malformed("expected a comma");
    SkipSeparators(in);
    if (in.AtEnd() || !AtParam(in)) return Status();  // the next challenge, if any
  }
}

}  // namespace

const std::string* AuthChallenge::Param(std::string_view name) const {
  for (const auto& [key, value] : params) {
    if (key == name) return &value;
  }
  return nullptr;
}

Result<std::vector<AuthChallenge>> ParseWwwAuthenticate(std::string_view header) {
  if (header.size() > kMaxWwwAuthenticateBytes) return Malformed("too long");
  Scanner in(header);
  std::vector<AuthChallenge> challenges;
  SkipSeparators(in);
  while (!in.AtEnd()) {
    if (challenges.size() == kMaxChallenges) return Malformed("too many challenges");
    AuthChallenge challenge;
    challenge.scheme = Lower(in.Token());
    if (challenge.scheme.empty()) return Malformed("expected an auth scheme");
    if (in.AtEnd() || in.Peek() == ',') {
      challenges.push_back(std::move(challenge));
      SkipSeparators(in);
      continue;
    }
    if (in.Peek() != ' ') return Malformed("expected a space after the auth scheme");
    in.SkipSpace();
    if (in.AtEnd() || in.Peek() == ',') {
      challenges.push_back(std::move(challenge));
      SkipSeparators(in);
      continue;
    }
    // token68 first: "abc==" would otherwise start a parameter named abc.
    if (in.Token68(challenge.token68)) {
      in.SkipSpace();
      SkipSeparators(in);
    } else if (Status status = ParseParams(in, challenge); !status.ok()) {
      return status;
    }
    challenges.push_back(std::move(challenge));
  }
  if (challenges.empty()) return Malformed("no challenge");
  return challenges;
}

}  // namespace ocireg::internal
