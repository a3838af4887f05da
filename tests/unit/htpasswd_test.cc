// SPDX-License-Identifier: Apache-2.0
// Tests of ParseBasicAuthorization and HtpasswdAuthenticator, on files made by the real
// `htpasswd` (apache2-utils), and of the bcrypt work spent on unknown users.
#include "ocireg/auth/htpasswd.h"

#include <crypt.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "auth/htpasswd_internal.h"
#include "catch.h"
#include "ocireg/auth/authenticator.h"
#include "status_macros.h"
#include "temp_dir.h"

extern char** environ;

using ocireg::BasicCredentials;
using ocireg::Credentials;
using ocireg::ErrorCode;
using ocireg::HtpasswdAuthenticator;
using ocireg::Identity;
using ocireg::ParseBasicAuthorization;
using ocireg::Result;
using ocireg::internal::BcryptCost;
using ocireg::internal::CheckBcrypt;
using ocireg::internal::HtpasswdUsers;
using ocireg::testing::TempDir;

namespace {

// Low, so that the tests stay fast; the checks do not depend on it.
constexpr int kTestCost = 5;

std::string ReadAll(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void WriteAll(const std::filesystem::path& path, std::string_view text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  REQUIRE(out.good());
}

// Runs `htpasswd args...` with its standard output going to `out`; its exit status, or -1 when
// it could not start or did not end within 30 seconds (then it is killed).
int RunHtpasswd(const std::vector<std::string>& args, const std::filesystem::path& out) {
  std::vector<char*> argv;
  std::string program = "htpasswd";
  argv.push_back(program.data());
  std::vector<std::string> copies = args;
  for (std::string& arg : copies) argv.push_back(arg.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  pid_t pid = -1;
  const int spawned = posix_spawnp(&pid, "htpasswd", &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) return -1;

  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  int status = 0;
  while (::waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// A directory of htpasswd files, and entries made by `htpasswd -n -b`.
class Files {
 public:
  // "user:hash" as `htpasswd -n -b <options> user password` prints it; bcrypt of kTestCost by
  // default.
  std::string Entry(const std::string& user, const std::string& password,
                    std::vector<std::string> options = {"-B", "-C", std::to_string(kTestCost)}) {
    const std::filesystem::path out = dir_.path() / ("entry-" + std::to_string(++entries_));
    std::vector<std::string> args = {"-n", "-b"};
    args.insert(args.end(), options.begin(), options.end());
    args.push_back(user);
    args.push_back(password);
    INFO("htpasswd for user " << user);
    REQUIRE(RunHtpasswd(args, out) == 0);
    std::string line = ReadAll(out);
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
    REQUIRE(line.starts_with(user + ":"));
    return line;
  }

  // Writes `text` to a file named `name`; its path.
  std::string Write(const std::string& name, std::string_view text) {
    const std::filesystem::path path = dir_.path() / name;
    WriteAll(path, text);
    return path.string();
  }

 private:
  TempDir dir_;
  int entries_ = 0;
};

// The hash part of a "user:hash" entry.
std::string HashOf(const std::string& entry) { return entry.substr(entry.find(':') + 1); }

// "Basic base64(user:password)", encoded by OpenSSL rather than by the code under test.
std::string BasicHeader(std::string_view user, std::string_view password) {
  const std::string plain = std::string(user) + ":" + std::string(password);
  std::string encoded(4 * ((plain.size() + 2) / 3) + 1, '\0');
  const int length = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(encoded.data()),
                                     reinterpret_cast<const unsigned char*>(plain.data()),
                                     static_cast<int>(plain.size()));
  encoded.resize(static_cast<size_t>(length));
  return "Basic " + encoded;
}

std::unique_ptr<HtpasswdAuthenticator> LoadOk(const std::string& path) {
  Result<std::unique_ptr<HtpasswdAuthenticator>> loaded = HtpasswdAuthenticator::Load(path);
  INFO(loaded.status().message());
  REQUIRE_OK(loaded);
  return std::move(*loaded);
}

// The message of the error loading `path` must give.
std::string LoadError(const std::string& path) {
  Result<std::unique_ptr<HtpasswdAuthenticator>> loaded = HtpasswdAuthenticator::Load(path);
  REQUIRE(!loaded.ok());
  CHECK(loaded.status().code() == ErrorCode::kInvalidArgument);
  return loaded.status().message();
}

// What Authenticate answers, in a form that is easy to compare.
enum class Outcome { kIdentity, kUnauthorized, kNothing, kOtherError };

Outcome OutcomeOf(const Result<std::optional<Identity>>& result) {
  if (result.ok()) return result->has_value() ? Outcome::kIdentity : Outcome::kNothing;
  return result.status().code() == ErrorCode::kUnauthorized ? Outcome::kUnauthorized
                                                            : Outcome::kOtherError;
}

// Credentials with only these fields set.
Credentials Presenting(std::string_view authorization, std::string_view client_certificate = {}) {
  Credentials credentials;
  credentials.authorization = authorization;
  credentials.client_certificate = client_certificate;
  return credentials;
}

Result<std::optional<Identity>> Login(ocireg::Authenticator& auth, std::string_view user,
                                      std::string_view password) {
  const std::string header = BasicHeader(user, password);
  return auth.Authenticate(Presenting(header));
}

// A real crypt(3) hash of `password` by the method `prefix` ("$1$", "$6$", ...).
std::string CryptHash(const char* prefix, const char* password) {
  char setting[CRYPT_GENSALT_OUTPUT_SIZE];
  REQUIRE(crypt_gensalt_rn(prefix, 0, nullptr, 0, setting, sizeof(setting)) != nullptr);
  auto data = std::make_unique<crypt_data>();
  const char* hash = crypt_rn(password, setting, data.get(), static_cast<int>(sizeof(crypt_data)));
  REQUIRE(hash != nullptr);
  REQUIRE(hash[0] != '*');
  return hash;
}

// A bcrypt check that records the hashes it is asked about before doing the real work.
class RecordingCheck {
 public:
  ocireg::internal::BcryptCheck Function() {
    return [this](const std::string& password, const std::string& hash) {
      {
        std::lock_guard<std::mutex> lock(mutex_);
        hashes_.push_back(hash);
      }
      return CheckBcrypt(password, hash);
    };
  }
  std::vector<std::string> Take() {
    std::lock_guard<std::mutex> lock(mutex_);
    return std::exchange(hashes_, {});
  }

 private:
  std::mutex mutex_;
  std::vector<std::string> hashes_;
};

}  // namespace

// ParseBasicAuthorization

TEST_CASE("Basic headers give the user and the password", "[htpasswd][basic]") {
  std::optional<BasicCredentials> parsed = ParseBasicAuthorization("Basic dXNlcjpwYXNz");
  REQUIRE(parsed);
  CHECK(parsed->user == "user");
  CHECK(parsed->password == "pass");

  for (const char* scheme : {"basic", "BASIC", "bAsIc"}) {
    INFO(scheme);
    parsed = ParseBasicAuthorization(std::string(scheme) + " dXNlcjpwYXNz");
    REQUIRE(parsed);
    CHECK(parsed->user == "user");
  }
  parsed = ParseBasicAuthorization("Basic   dXNlcjpwYXNz  ");
  REQUIRE(parsed);
  CHECK(parsed->password == "pass");
}

TEST_CASE("Basic credentials split at the first colon", "[htpasswd][basic]") {
  std::optional<BasicCredentials> parsed = ParseBasicAuthorization(BasicHeader("alice", "a:b::c"));
  REQUIRE(parsed);
  CHECK(parsed->user == "alice");
  CHECK(parsed->password == "a:b::c");

  parsed = ParseBasicAuthorization(BasicHeader("alice", ""));
  REQUIRE(parsed);
  CHECK(parsed->user == "alice");
  CHECK(parsed->password.empty());

  parsed = ParseBasicAuthorization(BasicHeader("", "secret"));
  REQUIRE(parsed);
  CHECK(parsed->user.empty());
  CHECK(parsed->password == "secret");
}

TEST_CASE("Basic credentials of every length and byte decode exactly", "[htpasswd][basic]") {
  // Lengths 0 to 8 after "u:" cover every amount of padding; the bytes cover all 256 values.
  std::string all_bytes;
  for (int byte = 0; byte < 256; ++byte) all_bytes += static_cast<char>(byte);
  std::vector<std::string> passwords = {all_bytes};
  for (size_t length = 0; length <= 8; ++length) passwords.push_back(all_bytes.substr(200, length));
  for (const std::string& password : passwords) {
    INFO("password length " << password.size());
    std::optional<BasicCredentials> parsed = ParseBasicAuthorization(BasicHeader("u", password));
    REQUIRE(parsed);
    CHECK(parsed->user == "u");
    CHECK(parsed->password == password);
  }
}

TEST_CASE("other schemes and malformed Basic headers give nothing", "[htpasswd][basic]") {
  const char* headers[] = {
      "",
      "Bearer dXNlcjpwYXNz",
      "Basic",
      "Basic ",
      "Basicx dXNlcjpwYXNz",
      "Basic\tdXNlcjpwYXNz",
      "Basic dXNlcg==",       // "user": no colon
      "Basic dXNlcjpwYXM",    // missing padding
      "Basic dXNlcjpwYXM=x",  // data after the padding
      "Basic dXNl*jpwYXNz",   // not a base64 digit
      "Basic dXNl cjpwYXNz",  // a space inside
      "Basic dXM=cjpwYXNz",   // '=' in the middle
      "Basic dXNlcjpw-_Nz",   // the URL alphabet
      "Basic ====",
      "Basic dXNlcjpwYXNz\n",  // a line break
  };
  for (const char* header : headers) {
    INFO("header: " << header);
    CHECK(!ParseBasicAuthorization(header));
  }
}

// HtpasswdAuthenticator

TEST_CASE("htpasswd: users log in with their bcrypt password", "[htpasswd]") {
  Files files;
  const std::string path = files.Write("users.htpasswd", files.Entry("alice", "wonderland") + "\n" +
                                                             files.Entry("bob", "pa:ss:wd") + "\n");
  auto auth = LoadOk(path);

  Result<std::optional<Identity>> alice = Login(*auth, "alice", "wonderland");
  REQUIRE(OutcomeOf(alice) == Outcome::kIdentity);
  CHECK((*alice)->user == "alice");
  CHECK((*alice)->groups.empty());

  SECTION("a password with colons") {
    Result<std::optional<Identity>> bob = Login(*auth, "bob", "pa:ss:wd");
    REQUIRE(OutcomeOf(bob) == Outcome::kIdentity);
    CHECK((*bob)->user == "bob");
    CHECK(OutcomeOf(Login(*auth, "bob", "pa")) == Outcome::kUnauthorized);
  }
  SECTION("a wrong password is unauthorized, and the message does not show it") {
    Result<std::optional<Identity>> wrong = Login(*auth, "alice", "looking-glass");
    REQUIRE(OutcomeOf(wrong) == Outcome::kUnauthorized);
    CHECK(wrong.status().message().find("looking-glass") == std::string::npos);
    CHECK(wrong.status().message().find("\"alice\"") != std::string::npos);
    CHECK(OutcomeOf(Login(*auth, "bob", "wonderland")) == Outcome::kUnauthorized);
    CHECK(OutcomeOf(Login(*auth, "alice", "Wonderland")) == Outcome::kUnauthorized);
  }
  SECTION("an empty password is a wrong password") {
    CHECK(OutcomeOf(Login(*auth, "alice", "")) == Outcome::kUnauthorized);
  }
  SECTION("a NUL byte does not cut the password short") {
    CHECK(OutcomeOf(Login(*auth, "alice", std::string("wonderland\0x", 12))) ==
          Outcome::kUnauthorized);
  }
  SECTION("an unknown user is left to the next method") {
    CHECK(OutcomeOf(Login(*auth, "carol", "wonderland")) == Outcome::kNothing);
    CHECK(OutcomeOf(Login(*auth, "", "wonderland")) == Outcome::kNothing);
    CHECK(OutcomeOf(Login(*auth, "Alice", "wonderland")) == Outcome::kNothing);
  }
  SECTION("no Basic header gives nothing") {
    CHECK(OutcomeOf(auth->Authenticate(Credentials{})) == Outcome::kNothing);
    CHECK(OutcomeOf(auth->Authenticate(Presenting("Bearer abc.def.ghi"))) == Outcome::kNothing);
    CHECK(OutcomeOf(auth->Authenticate(Presenting("Basic !!!!"))) == Outcome::kNothing);
  }
  SECTION("a client certificate is ignored; only Basic counts") {
    CHECK(OutcomeOf(auth->Authenticate(Presenting({}, "alice"))) == Outcome::kNothing);
    const std::string wrong = BasicHeader("alice", "nope");
    CHECK(OutcomeOf(auth->Authenticate(Presenting(wrong, "alice"))) == Outcome::kUnauthorized);
    const std::string right = BasicHeader("alice", "wonderland");
    Result<std::optional<Identity>> result = auth->Authenticate(Presenting(right, "bob"));
    REQUIRE(OutcomeOf(result) == Outcome::kIdentity);
    CHECK((*result)->user == "alice");
  }
}

TEST_CASE("htpasswd: an entry made for the empty password never logs in", "[htpasswd]") {
  Files files;
  auto auth = LoadOk(files.Write("users", files.Entry("nobody", "") + "\n"));
  CHECK(OutcomeOf(Login(*auth, "nobody", "")) == Outcome::kUnauthorized);
}

TEST_CASE("htpasswd: $2a$, $2b$ and $2y$ hashes are all accepted", "[htpasswd]") {
  Files files;
  const std::string hash = HashOf(files.Entry("u", "secret"));
  REQUIRE(hash.starts_with("$2y$"));
  for (const char* prefix : {"$2a$", "$2b$", "$2y$"}) {
    INFO(prefix);
    // For ASCII passwords the three variants compute the same hash.
    const std::string line = "u:" + std::string(prefix) + hash.substr(4) + "\n";
    auto auth = LoadOk(files.Write("users", line));
    CHECK(OutcomeOf(Login(*auth, "u", "secret")) == Outcome::kIdentity);
    CHECK(OutcomeOf(Login(*auth, "u", "Secret")) == Outcome::kUnauthorized);
  }
}

TEST_CASE("htpasswd: hashes other than bcrypt are refused with file, line and kind", "[htpasswd]") {
  Files files;
  const std::string good = files.Entry("alice", "wonderland");

  struct Case {
    std::string hash_line;  // the entry of bob
    std::string kind;       // what the message says it is
  };
  const std::vector<Case> cases = {
      {files.Entry("bob", "plainsecret", {"-m"}), "$apr1$ is MD5"},
      {files.Entry("bob", "plainsecret", {"-s"}), "{SHA} is SHA-1"},
      {files.Entry("bob", "plainsecret", {"-d"}), "crypt(3) DES, or plain text"},
      {files.Entry("bob", "plainsecret", {"-p"}), "plain text or an unknown format"},
      {"bob:" + CryptHash("$1$", "plainsecret"), "$1$ is MD5-crypt"},
      {"bob:" + CryptHash("$5$", "plainsecret"), "$5$ is SHA-256-crypt"},
      {"bob:" + CryptHash("$6$", "plainsecret"), "$6$ is SHA-512-crypt"},
      {"bob:" + CryptHash("$y$", "plainsecret"), "$y$ is yescrypt"},
      {"bob:$2x$05$" + HashOf(good).substr(7), "$2x$ is bcrypt with the sign-extension bug"},
      {"bob:", "the hash is empty"},
  };
  for (const Case& c : cases) {
    INFO(c.hash_line);
    const std::string path =
        files.Write("users.htpasswd", good + "\n# bob follows\n" + c.hash_line + "\n");
    const std::string message = LoadError(path);
    CHECK(message == path + ":3: user \"bob\": not a bcrypt hash (" + c.kind +
                         "); create entries with htpasswd -B");
    CHECK(message.find("plainsecret") == std::string::npos);
  }
}

TEST_CASE("htpasswd: malformed bcrypt entries are refused", "[htpasswd]") {
  Files files;
  const std::string hash = HashOf(files.Entry("u", "secret"));
  const std::string body = hash.substr(7);  // salt and hash, 53 characters
  struct Case {
    std::string hash;
    std::string problem;
  };
  const std::vector<Case> cases = {
      {hash.substr(0, 59),
       "malformed bcrypt hash (expected $2y$NN$ and 53 characters of "
       "./0-9A-Za-z)"},
      {hash + "x", "malformed bcrypt hash (expected $2y$NN$ and 53 characters of ./0-9A-Za-z)"},
      {"$2b$5x$" + body,
       "malformed bcrypt hash (expected $2b$NN$ and 53 characters of "
       "./0-9A-Za-z)"},
      {"$2y$05$" + body.substr(0, 52) + "!",
       "malformed bcrypt hash (expected $2y$NN$ and 53 "
       "characters of ./0-9A-Za-z)"},
      {"$2y$03$" + body, "bcrypt cost 3 is outside 4..31"},
      {"$2y$32$" + body, "bcrypt cost 32 is outside 4..31"},
  };
  for (const Case& c : cases) {
    INFO(c.hash);
    const std::string path = files.Write("users", "\n\nu:" + c.hash + "\n");
    CHECK(LoadError(path) == path + ":3: user \"u\": " + c.problem);
  }
}

TEST_CASE("htpasswd: structural errors name the file and the line", "[htpasswd]") {
  Files files;
  const std::string alice = files.Entry("alice", "wonderland");
  const std::string bob = files.Entry("bob", "builder");

  SECTION("a user listed twice") {
    const std::string path = files.Write("users", alice + "\n" + bob + "\n\n" + alice + "\n");
    CHECK(LoadError(path) == path + ":4: user \"alice\": listed again (first on line 1)");
  }
  SECTION("a line without a colon") {
    const std::string path = files.Write("users", alice + "\nbob\n");
    CHECK(LoadError(path) == path + ":2: expected user:hash, found no ':'");
  }
  SECTION("an empty user name") {
    const std::string path = files.Write("users", ":" + HashOf(bob) + "\n");
    CHECK(LoadError(path) == path + ":1: empty user name");
  }
  SECTION("a user name with control characters is quoted safely") {
    const std::string path = files.Write("users", "ev\x1bil:{SHA}x\n");
    CHECK(LoadError(path) == path +
                                 ":1: user \"ev\\x1bil\": not a bcrypt hash ({SHA} is SHA-1); "
                                 "create entries with htpasswd -B");
  }
  SECTION("a missing file") {
    const std::string path = files.Write("users", "") + ".missing";
    CHECK(LoadError(path) == path + ": cannot read: No such file or directory");
  }
}

TEST_CASE("htpasswd: comments, blank lines, CRLF and a BOM are read as htpasswd writes them",
          "[htpasswd]") {
  Files files;
  const std::string alice = files.Entry("alice", "wonderland");
  const std::string bob = files.Entry("bob", "builder");

  SECTION("comments and blank lines") {
    auto auth = LoadOk(files.Write(
        "users", "# users of the registry\n\n   \n" + alice + "\n\t\n# " + bob + "\n  " + bob));
    CHECK(OutcomeOf(Login(*auth, "alice", "wonderland")) == Outcome::kIdentity);
    CHECK(OutcomeOf(Login(*auth, "bob", "builder")) == Outcome::kIdentity);
  }
  SECTION("a commented-out user is not a user") {
    auto auth = LoadOk(files.Write("users", alice + "\n#" + bob + "\n"));
    CHECK(OutcomeOf(Login(*auth, "bob", "builder")) == Outcome::kNothing);
    CHECK(OutcomeOf(Login(*auth, "#bob", "builder")) == Outcome::kNothing);
  }
  SECTION("CRLF line endings") {
    const std::string path = files.Write("users", "# crlf\r\n" + alice + "\r\n\r\n" + bob + "\r\n");
    auto auth = LoadOk(path);
    CHECK(OutcomeOf(Login(*auth, "alice", "wonderland")) == Outcome::kIdentity);
    CHECK(OutcomeOf(Login(*auth, "bob", "builder")) == Outcome::kIdentity);
    // Line numbers still count CRLF lines.
    const std::string bad = files.Write("bad", alice + "\r\n\r\nbob:{SHA}x\r\n");
    CHECK(LoadError(bad).starts_with(bad + ":3: user \"bob\":"));
  }
  SECTION("a UTF-8 byte order mark") {
    auto auth = LoadOk(files.Write("users", "\xEF\xBB\xBF" + alice + "\n"));
    CHECK(OutcomeOf(Login(*auth, "alice", "wonderland")) == Outcome::kIdentity);
  }
  SECTION("a file without users") {
    auto auth = LoadOk(files.Write("users", "# nobody yet\n"));
    CHECK(OutcomeOf(Login(*auth, "alice", "wonderland")) == Outcome::kNothing);
  }
}

TEST_CASE("htpasswd: concurrent logins from several threads", "[htpasswd]") {
  Files files;
  auto auth = LoadOk(files.Write(
      "users", files.Entry("alice", "wonderland") + "\n" + files.Entry("bob", "builder") + "\n"));

  constexpr int kThreads = 4;
  constexpr int kRounds = 3;
  struct Attempt {
    std::string user;
    std::string password;
    Outcome want;
  };
  const std::vector<Attempt> attempts = {{"alice", "wonderland", Outcome::kIdentity},
                                         {"bob", "builder", Outcome::kIdentity},
                                         {"alice", "builder", Outcome::kUnauthorized},
                                         {"carol", "x", Outcome::kNothing}};
  // Each thread writes only its own slot; Catch2 assertions run after the join.
  std::vector<std::vector<Outcome>> got(kThreads);
  std::vector<std::vector<std::string>> users(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < kRounds; ++round) {
        for (size_t i = 0; i < attempts.size(); ++i) {
          const Attempt& attempt = attempts[(i + t) % attempts.size()];
          Result<std::optional<Identity>> result = Login(*auth, attempt.user, attempt.password);
          got[t].push_back(OutcomeOf(result));
          users[t].push_back(result.ok() && result->has_value() ? (*result)->user : "");
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();

  for (int t = 0; t < kThreads; ++t) {
    REQUIRE(got[t].size() == kRounds * attempts.size());
    for (size_t n = 0; n < got[t].size(); ++n) {
      const Attempt& attempt = attempts[(n % attempts.size() + t) % attempts.size()];
      INFO("thread " << t << ", attempt " << n << ": " << attempt.user);
      CHECK(got[t][n] == attempt.want);
      CHECK(users[t][n] == (attempt.want == Outcome::kIdentity ? attempt.user : ""));
    }
  }
}

// The bcrypt work behind each answer, seen through the check seam.

TEST_CASE("htpasswd: every Basic login runs one bcrypt check; unknown users the file's cost",
          "[htpasswd]") {
  Files files;
  // Costs 5, 6, 6: the dummy hash must have cost 6, the cost most entries have.
  const std::string alice = files.Entry("alice", "wonderland", {"-B", "-C", "6"});
  const std::string bob = files.Entry("bob", "builder", {"-B", "-C", "5"});
  const std::string carol = files.Entry("carol", "singer", {"-B", "-C", "6"});
  const std::string path = files.Write("users", alice + "\n" + bob + "\n" + carol + "\n");
  RecordingCheck recording;
  Result<HtpasswdUsers> users = HtpasswdUsers::Load(path, recording.Function());
  INFO(users.status().message());
  REQUIRE_OK(users);
  REQUIRE(users->size() == 3);

  const std::string& dummy = users->dummy_hash();
  CHECK(BcryptCost(dummy) == 6);
  CHECK(dummy.starts_with("$2y$06$"));
  CHECK(recording.Take().empty());  // Load checks nothing

  const auto login = [&](std::string_view user, std::string_view password) {
    const std::string header = BasicHeader(user, password);
    return OutcomeOf(users->Authenticate(Presenting(header)));
  };

  SECTION("an unknown user: one check, against the dummy hash") {
    CHECK(login("dave", "wonderland") == Outcome::kNothing);
    CHECK(recording.Take() == std::vector<std::string>{dummy});
    CHECK(login("", "") == Outcome::kNothing);
    CHECK(recording.Take() == std::vector<std::string>{dummy});
  }
  SECTION("a wrong password: one check, against the user's hash") {
    CHECK(login("alice", "builder") == Outcome::kUnauthorized);
    CHECK(recording.Take() == std::vector<std::string>{HashOf(alice)});
    CHECK(login("bob", "") == Outcome::kUnauthorized);
    CHECK(recording.Take() == std::vector<std::string>{HashOf(bob)});
  }
  SECTION("a right password: one check") {
    CHECK(login("carol", "singer") == Outcome::kIdentity);
    CHECK(recording.Take() == std::vector<std::string>{HashOf(carol)});
  }
  SECTION("no Basic header: no check") {
    CHECK(OutcomeOf(users->Authenticate(Credentials{})) == Outcome::kNothing);
    CHECK(OutcomeOf(users->Authenticate(Presenting("Bearer x"))) == Outcome::kNothing);
    CHECK(recording.Take().empty());
  }
  SECTION("the dummy hash is a real bcrypt hash that crypt computes in full") {
    auto data = std::make_unique<crypt_data>();
    const char* out =
        crypt_rn("guess", dummy.c_str(), data.get(), static_cast<int>(sizeof(crypt_data)));
    REQUIRE(out != nullptr);
    const std::string hashed = out;
    CHECK(hashed.size() == 60);
    CHECK(hashed.substr(0, 29) == dummy.substr(0, 29));  // same method, cost and salt
    CHECK(!CheckBcrypt("guess", dummy));
  }
}

TEST_CASE("htpasswd: the dummy cost on ties and for a file without users", "[htpasswd]") {
  Files files;
  const std::string five = files.Entry("five", "x", {"-B", "-C", "5"});
  const std::string six = files.Entry("six", "x", {"-B", "-C", "6"});

  Result<HtpasswdUsers> tie = HtpasswdUsers::Load(files.Write("tie", five + "\n" + six + "\n"));
  REQUIRE_OK(tie);
  CHECK(BcryptCost(tie->dummy_hash()) == 6);  // the higher cost on a tie

  Result<HtpasswdUsers> empty = HtpasswdUsers::Load(files.Write("empty", ""));
  REQUIRE_OK(empty);
  CHECK(empty->size() == 0);
  CHECK(BcryptCost(empty->dummy_hash()) == 5);

  // Each Load makes a fresh salt.
  Result<HtpasswdUsers> again = HtpasswdUsers::Load(files.Write("tie", five + "\n" + six + "\n"));
  REQUIRE_OK(again);
  CHECK(again->dummy_hash() != tie->dummy_hash());
}

TEST_CASE("CheckBcrypt and BcryptCost", "[htpasswd]") {
  Files files;
  const std::string hash = HashOf(files.Entry("u", "secret"));
  CHECK(CheckBcrypt("secret", hash));
  CHECK(!CheckBcrypt("secreT", hash));
  CHECK(!CheckBcrypt("", hash));
  CHECK(!CheckBcrypt("secret", hash.substr(0, 40)));
  CHECK(!CheckBcrypt("secret", "$apr1$HvOaLjgQ$A1bt2VsaEI/SbmUgKcLjs."));
  CHECK(!CheckBcrypt(std::string(600, 'a'), hash));  // over libcrypt's passphrase limit

  CHECK(BcryptCost(hash) == kTestCost);
  CHECK(BcryptCost("$2y$12$" + hash.substr(7)) == 12);
  CHECK(!BcryptCost(hash.substr(0, 59)));
  CHECK(!BcryptCost("$2x$05$" + hash.substr(7)));
  CHECK(!BcryptCost("{SHA}EfatjsUqKYSrqv18O1FlA3hcIHI="));
}
