// The admin commands of the CLI: tokens and workers.
#include <cstdio>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "server/cli/client_command_util.h"
#include "server/cli/commands.h"

namespace edgenas {
namespace {

using namespace cli_internal;  // NOLINT: the commands' shared parts

absl::StatusOr<int64_t> ParseTtl(const std::string& t) {
  if (t.empty()) return absl::InvalidArgumentError("--ttl: empty");
  int64_t unit = 1;
  std::string num = t;
  switch (t.back()) {
    case 's': unit = 1; num.pop_back(); break;
    case 'm': unit = 60; num.pop_back(); break;
    case 'h': unit = 3600; num.pop_back(); break;
    case 'd': unit = 86400; num.pop_back(); break;
    default: break;
  }
  char* end = nullptr;
  long long v = std::strtoll(num.c_str(), &end, 10);
  if (num.empty() || *end != '\0' || v < 0) return absl::InvalidArgumentError(absl::StrCat("--ttl: '", t, "' is not like 30m, 1h or 7d"));
  return v * unit;
}

int Tokens(int argc, char** argv) {
  const std::string sub = argc > 2 ? argv[2] : "";
  if (sub == "create") {
    Cmd c("edgenas tokens create (--device-class C --ttl 1h | --scopes search[,admin]) [flags]",
          "Creates a token and prints it once. With --device-class: a one-time enrollment token for a\n"
          "device of that class (edgenas-worker --enroll-token); with --scopes: a client token.");
    std::string device_class, scopes, ttl, description;
    c.flags.String("device-class", &device_class, "enrollment token for this device class (rpi4, host-cpu, ...)");
    c.flags.String("scopes", &scopes, "client token with these scopes: search, admin");
    c.flags.String("ttl", &ttl, "lifetime: 30m, 1h, 7d (enrollment tokens must expire)");
    c.flags.String("description", &description, "a note kept with the token");
    PARSE_OR_RETURN(c, argc, argv, 3, 0);
    if (device_class.empty() == scopes.empty()) return Usage(c.flags, "give --device-class or --scopes");
    v1::CreateTokenRequest req;
    req.set_kind(device_class.empty() ? v1::CreateTokenRequest::KIND_CLIENT : v1::CreateTokenRequest::KIND_ENROLLMENT);
    req.set_device_class(device_class);
    for (absl::string_view s : absl::StrSplit(scopes, ',', absl::SkipEmpty())) req.add_scopes(std::string(s));
    if (!ttl.empty()) {
      absl::StatusOr<int64_t> secs = ParseTtl(ttl);
      if (!secs.ok()) return Usage(c.flags, std::string(secs.status().message()));
      req.set_ttl_seconds(*secs);
    } else if (!device_class.empty()) {
      req.set_ttl_seconds(3600);
    }
    req.set_description(description);
    CONNECT_OR_RETURN(client, c);
    v1::CreateTokenResponse resp;
    auto ctx = (*client)->Context();
    if (absl::Status s = FromGrpc((*client)->admin().CreateToken(ctx.get(), req, &resp)); !s.ok()) return Fail(s);
    if (c.as_json) return std::printf("%s\n", ToJson(resp).dump().c_str()), 0;
    std::printf("%s\n", resp.token().c_str());
    const std::string expiry = resp.expires_at_ms() ? ", expires in " + (ttl.empty() ? "1h" : ttl) : "";
    std::fprintf(stderr, "token %s%s (shown once; edgenasd keeps only its hash)\n", resp.token_id().c_str(),
                 expiry.c_str());
    return 0;
  }
  if (sub == "list" || sub == "revoke") {
    Cmd c(sub == "list" ? "edgenas tokens list [flags]" : "edgenas tokens revoke TOKEN_ID [flags]",
          sub == "list" ? "Lists tokens (never their secrets)." : "Revokes a token.");
    PARSE_OR_RETURN(c, argc, argv, 3, sub == "list" ? 0 : 1);
    CONNECT_OR_RETURN(client, c);
    auto ctx = (*client)->Context();
    if (sub == "revoke") {
      v1::RevokeTokenRequest req;
      req.set_token_id(c.arg());
      v1::RevokeTokenResponse resp;
      if (absl::Status s = FromGrpc((*client)->admin().RevokeToken(ctx.get(), req, &resp)); !s.ok()) return Fail(s);
      std::printf(c.as_json ? "{\"revoked\": \"%s\"}\n" : "revoked %s\n", c.arg().c_str());
      return 0;
    }
    v1::ListTokensResponse resp;
    if (absl::Status s = FromGrpc((*client)->admin().ListTokens(ctx.get(), v1::ListTokensRequest(), &resp)); !s.ok())
      return Fail(s);
    if (c.as_json) return std::printf("%s\n", ToJson(resp).dump().c_str()), 0;
    for (const v1::TokenInfo& t : resp.tokens())
      std::printf("%-20s %-10s %-14s %-8s %s%s\n", t.token_id().c_str(),
                  t.kind() == v1::CreateTokenRequest::KIND_CLIENT ? "client" : "enroll",
                  t.kind() == v1::CreateTokenRequest::KIND_CLIENT ? absl::StrJoin(t.scopes(), ",").c_str()
                                                                  : t.device_class().c_str(),
                  t.revoked() ? "revoked" : t.used() ? "used" : "active", t.description().c_str(), "");
    return 0;
  }
  std::fprintf(stderr, "usage: edgenas tokens (create|list|revoke) [flags]\n");
  return 2;
}

int Workers(int argc, char** argv) {
  const bool revoke = argc > 2 && std::string(argv[2]) == "revoke";
  Cmd c(revoke ? "edgenas workers revoke WORKER_ID [flags]" : "edgenas workers [flags]",
        revoke ? "Revokes a worker: its credential is refused from now on and its leases return to the queue."
               : "Lists enrolled workers: class, fingerprint, last seen, tasks done, health.");
  PARSE_OR_RETURN(c, argc, argv, revoke ? 3 : 2, revoke ? 1 : 0);
  CONNECT_OR_RETURN(client, c);
  auto ctx = (*client)->Context();
  if (revoke) {
    v1::RevokeWorkerRequest req;
    req.set_worker_id(c.arg());
    v1::RevokeWorkerResponse resp;
    if (absl::Status s = FromGrpc((*client)->admin().RevokeWorker(ctx.get(), req, &resp)); !s.ok()) return Fail(s);
    std::printf(c.as_json ? "{\"revoked\": \"%s\"}\n" : "revoked %s\n", c.arg().c_str());
    return 0;
  }
  v1::ListWorkersResponse resp;
  if (absl::Status s = FromGrpc((*client)->admin().ListWorkers(ctx.get(), v1::ListWorkersRequest(), &resp)); !s.ok())
    return Fail(s);
  if (c.as_json) return std::printf("%s\n", ToJson(resp).dump().c_str()), 0;
  std::printf("%-18s %-10s %-8s %-34s %8s %s\n", "worker", "class", "role", "cpu", "tasks", "health");
  for (const v1::WorkerInfo& w : resp.workers())
    std::printf("%-18s %-10s %-8s %-34s %8lld %s\n", w.worker_id().c_str(), w.device_class().c_str(),
                w.role() == v1::WORKER_ROLE_TRAINER ? "trainer" : "latency",
                w.fingerprint().cpu_model().substr(0, 34).c_str(), static_cast<long long>(w.tasks_done()),
                w.health().c_str());
  return 0;
}

}  // namespace

int RunAdminCommand(const std::string& cmd, int argc, char** argv) {
  if (cmd == "tokens") return Tokens(argc, argv);
  if (cmd == "workers") return Workers(argc, argv);
  return -1;
}

}  // namespace edgenas
