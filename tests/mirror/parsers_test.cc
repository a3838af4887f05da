// SPDX-License-Identifier: Apache-2.0
// The upstream client's parsers of what a remote registry sends: WWW-Authenticate (valid, hostile,
// over the bounds), Retry-After, Link, Content-Range, and token endpoint answers.
#include <chrono>
#include <string>

#include "catch.h"
#include "mirror/upstream_auth.h"
#include "mirror/upstream_response.h"
#include "mirror/www_authenticate.h"
#include "status_macros.h"

namespace ocireg::internal {
namespace {

using std::chrono::seconds;
using std::chrono::system_clock;

TEST_CASE("WWW-Authenticate: a Bearer challenge as distribution sends it", "[mirror][unit]") {
  auto parsed = ParseWwwAuthenticate(
      R"(Bearer realm="https://auth.example/token",service="registry.example",)"
      R"(scope="repository:library/alpine:pull")");
  REQUIRE_OK(parsed);
  REQUIRE(parsed->size() == 1);
  const AuthChallenge& bearer = (*parsed)[0];
  CHECK(bearer.scheme == "bearer");
  REQUIRE(bearer.Param("realm") != nullptr);
  CHECK(*bearer.Param("realm") == "https://auth.example/token");
  CHECK(*bearer.Param("service") == "registry.example");
  CHECK(*bearer.Param("scope") == "repository:library/alpine:pull");
  CHECK(bearer.Param("error") == nullptr);
}

TEST_CASE("WWW-Authenticate: several challenges, escapes, tokens, case and spaces",
          "[mirror][unit]") {
  auto parsed = ParseWwwAuthenticate(
      R"(Newauth realm="apps", type=1, title="Login to \"apps\"", BASIC realm="simple",)"
      R"( Negotiate abc+/==,  Bearer   Realm = "r" , unknown=x)");
  REQUIRE_OK(parsed);
  REQUIRE(parsed->size() == 4);
  CHECK((*parsed)[0].scheme == "newauth");
  CHECK(*(*parsed)[0].Param("type") == "1");
  CHECK(*(*parsed)[0].Param("title") == R"(Login to "apps")");
  CHECK((*parsed)[1].scheme == "basic");
  CHECK(*(*parsed)[1].Param("realm") == "simple");
  CHECK((*parsed)[2].scheme == "negotiate");
  CHECK((*parsed)[2].token68 == "abc+/==");
  CHECK((*parsed)[3].scheme == "bearer");
  CHECK(*(*parsed)[3].Param("realm") == "r");
  CHECK(*(*parsed)[3].Param("unknown") == "x");

  // "realm=" alone is a token68 (RFC 9110 allows trailing '='), not an empty parameter.
  auto token68 = ParseWwwAuthenticate("Bearer realm=");
  REQUIRE_OK(token68);
  CHECK((*token68)[0].token68 == "realm=");
  CHECK((*token68)[0].Param("realm") == nullptr);

  auto bare = ParseWwwAuthenticate("Basic");
  REQUIRE_OK(bare);
  CHECK((*bare)[0].scheme == "basic");
  CHECK((*bare)[0].params.empty());
  REQUIRE_OK(ParseWwwAuthenticate("Basic, Bearer realm=\"x\""));
}

TEST_CASE("WWW-Authenticate: malformed and hostile values are refused", "[mirror][unit]") {
  const char* bad[] = {
      "",
      " , ,",
      "Bearer realm=\"unterminated",
      "Bearer realm=\"bad\\",
      "Bearer a=b=c",
      "Bearer realm=\"a\" service=\"b\"",  // no comma
      "Bearer realm=\"a\", realm=\"b\"",   // twice
      "Bearer realm=\"a\nb\"",             // control character
      "Bearer realm=\"a\\\x01\"",
      "=x",
      "Bearer ,realm=x=y",
      "Bearer\trealm=x",
      "Bearer realm=@",
  };
  for (const char* value : bad) {
    INFO(value);
    CHECK_CODE(ParseWwwAuthenticate(value).status(), ErrorCode::kInvalidArgument);
  }
  // The message never repeats the header (it may hold anything).
  auto refused = ParseWwwAuthenticate("Bearer realm=\"secret-value");
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().message().find("secret-value") == std::string::npos);
}

TEST_CASE("WWW-Authenticate: bounds on size, challenges and parameters", "[mirror][unit]") {
  std::string many_params = "Bearer a0=x";
  for (size_t i = 1; i < kMaxChallengeParams; ++i) many_params += ", a" + std::to_string(i) + "=x";
  REQUIRE_OK(ParseWwwAuthenticate(many_params));
  CHECK_CODE(ParseWwwAuthenticate(many_params + ", over=x").status(), ErrorCode::kInvalidArgument);

  std::string many_challenges = "S0";
  for (size_t i = 1; i < kMaxChallenges; ++i) many_challenges += ", S" + std::to_string(i);
  REQUIRE_OK(ParseWwwAuthenticate(many_challenges));
  CHECK_CODE(ParseWwwAuthenticate(many_challenges + ", Over").status(),
             ErrorCode::kInvalidArgument);

  const std::string long_value =
      "Bearer realm=\"" + std::string(kMaxWwwAuthenticateBytes, 'a') + "\"";
  CHECK_CODE(ParseWwwAuthenticate(long_value).status(), ErrorCode::kInvalidArgument);
  // Deep runs of separators and escapes stay linear and bounded.
  CHECK_CODE(ParseWwwAuthenticate(std::string(kMaxWwwAuthenticateBytes, ',')).status(),
             ErrorCode::kInvalidArgument);
  REQUIRE_OK(ParseWwwAuthenticate("Bearer realm=\"" + std::string(4000, '\\') + "\""));
}

TEST_CASE("Bearer challenges become token requests", "[mirror][unit]") {
  auto parsed = ParseWwwAuthenticate(
      R"(Basic realm="x", Bearer realm="http://127.0.0.1:9/token?a=b",service="reg istry",)"
      R"(scope="repository:a/b:pull repository:c:pull,push")");
  REQUIRE_OK(parsed);
  CHECK(HasBasicChallenge(*parsed));
  auto bearer = FindBearerChallenge(*parsed);
  REQUIRE(bearer);
  CHECK(bearer->scopes ==
        std::vector<std::string>{"repository:a/b:pull", "repository:c:pull,push"});
  CHECK(TokenRequestUrl(*bearer) ==
        "http://127.0.0.1:9/token?a=b&service=reg%20istry&scope=repository%3Aa%2Fb%3Apull"
        "&scope=repository%3Ac%3Apull%2Cpush");
  // A realm that is not an http(s) URL is no usable challenge.
  auto other = ParseWwwAuthenticate(R"(Bearer realm="file:///etc/passwd")");
  REQUIRE_OK(other);
  CHECK_FALSE(FindBearerChallenge(*other));
  CHECK(BasicAuthorization("Aladdin", "open sesame") == "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
}

TEST_CASE("Token answers: token or access_token, expires_in, issued_at", "[mirror][unit]") {
  const auto now = system_clock::time_point(seconds(1'700'000'000));
  auto plain = ParseTokenResponse(R"({"token":"abc"})", now);
  REQUIRE_OK(plain);
  CHECK(plain->token == "abc");
  CHECK(plain->renew_at == now + seconds(60) - seconds(10));  // the 60 s default, renewed early

  auto access = ParseTokenResponse(R"({"access_token":"xyz","expires_in":300})", now);
  REQUIRE_OK(access);
  CHECK(access->token == "xyz");
  CHECK(access->renew_at == now + seconds(290));

  auto short_lived = ParseTokenResponse(R"({"token":"t","expires_in":4})", now);
  REQUIRE_OK(short_lived);
  CHECK(short_lived->renew_at == now + seconds(3));

  // Issued a minute ago: it expires a minute earlier than a fresh one would.
  auto issued = ParseTokenResponse(
      R"({"token":"t","expires_in":120,"issued_at":"2023-11-14T22:12:20Z"})", now);
  REQUIRE_OK(issued);
  CHECK(issued->renew_at == now + seconds(60) - seconds(10));
  // A clock ahead of ours does not lengthen its life; a garbled issued_at is ignored.
  auto ahead = ParseTokenResponse(
      R"({"token":"t","expires_in":120,"issued_at":"2030-01-01T00:00:00.5Z"})", now);
  REQUIRE_OK(ahead);
  CHECK(ahead->renew_at == now + seconds(110));
  REQUIRE_OK(ParseTokenResponse(R"({"token":"t","issued_at":"yesterday"})", now));

  for (const char* bad :
       {"", "[]", "{}", R"({"token":""})", R"({"token":5})", R"({"token":"a b"})",
        R"({"token":"a\r\nX: y"})", R"({"token":"t","expires_in":"60"})", "{\"token\":\"t\""}) {
    INFO(bad);
    CHECK_CODE(ParseTokenResponse(bad, now).status(), ErrorCode::kUnavailable);
  }
  CHECK_CODE(
      ParseTokenResponse(R"({"token":")" + std::string(kMaxTokenResponseBytes, 'a') + "\"}", now)
          .status(),
      ErrorCode::kUnavailable);
  // The message never holds the token.
  auto refused = ParseTokenResponse(R"({"token":"sec ret"})", now);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().message().find("sec ret") == std::string::npos);
}

TEST_CASE("TokenCache: by key, until renew_at, forgetting keeps the challenge", "[mirror][unit]") {
  const auto now = system_clock::time_point(seconds(1000));
  TokenCache cache;
  CHECK_FALSE(cache.Token("a", now));
  cache.Store("a", BearerChallenge{.realm = "http://r", .service = "s", .scopes = {}},
              BearerToken{.token = "t1", .renew_at = now + seconds(5)});
  CHECK(cache.Token("a", now) == "t1");
  CHECK_FALSE(cache.Token("b", now));
  CHECK_FALSE(cache.Token("a", now + seconds(5)));
  cache.Forget("a");
  CHECK_FALSE(cache.Token("a", now));
  REQUIRE(cache.Challenge("a"));
  CHECK(cache.Challenge("a")->service == "s");
  for (size_t i = 0; i < TokenCache::kMaxEntries + 10; ++i) {
    cache.Store("k" + std::to_string(i), {}, {.token = "t", .renew_at = now + seconds(i + 1)});
  }
  CHECK_FALSE(cache.Token("k0", now));  // the earliest went first
  CHECK(cache.Token("k" + std::to_string(TokenCache::kMaxEntries + 9), now) == "t");
}

TEST_CASE("Retry-After: seconds and HTTP dates, bounded", "[mirror][unit]") {
  const auto now = system_clock::time_point(seconds(1'445'412'480));  // Wed, 21 Oct 2015 07:28:00
  CHECK(ParseRetryAfter("120", now) == now + seconds(120));
  CHECK(ParseRetryAfter(" 0 ", now) == now);
  CHECK(ParseRetryAfter("99999999", now) == now + kMaxRetryAfter);
  CHECK(ParseRetryAfter("Wed, 21 Oct 2015 07:28:30 GMT", now) == now + seconds(30));
  CHECK(ParseRetryAfter("Wed, 21 Oct 2015 07:00:00 GMT", now) == now);  // past: no wait
  CHECK(ParseRetryAfter("Fri, 21 Oct 2016 07:28:00 GMT", now) == now + kMaxRetryAfter);
  for (const char* bad : {"", "-1", "1.5", "12s", "soon", "Wed, 21 Oct 2015 07:28:30 UTC",
                          "99999999999999999999999"}) {
    INFO(bad);
    CHECK_FALSE(ParseRetryAfter(bad, now));
  }
}

TEST_CASE("Link rel=next and Content-Range", "[mirror][unit]") {
  CHECK(ParseNextLink(R"(</v2/a/tags/list?n=2&last=b>; rel="next")") ==
        "/v2/a/tags/list?n=2&last=b");
  CHECK(ParseNextLink(R"(<https://x/prev>; rel="prev", <https://x/next>;rel=next)") ==
        "https://x/next");
  CHECK_FALSE(ParseNextLink(R"(</v2/a>; rel="prev")"));
  CHECK_FALSE(ParseNextLink("/v2/a; rel=\"next\""));
  CHECK_FALSE(ParseNextLink("<a b>; rel=\"next\""));
  CHECK_FALSE(ParseNextLink("<>; rel=\"next\""));
  CHECK(ParseContentRangeTotal("bytes 5-9/10") == 10u);
  CHECK_FALSE(ParseContentRangeTotal("bytes 5-9/*"));
  CHECK_FALSE(ParseContentRangeTotal("items 5-9/10"));
  CHECK(ParseContentRangeFirst("bytes 5-9/10") == 5u);
  CHECK(ParseContentRangeFirst(" bytes 0-9/*") == 0u);
  CHECK_FALSE(ParseContentRangeFirst("bytes -9/10"));
  CHECK_FALSE(ParseContentRangeFirst("bytes x-9/10"));
  CHECK_FALSE(ParseContentRangeFirst("items 5-9/10"));
}

}  // namespace
}  // namespace ocireg::internal
