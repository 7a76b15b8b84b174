#include "tests/integration/edgenasd_process.h"

#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <thread>

#include "gtest/gtest.h"

namespace edgenas {
namespace testing {

EdgenasdProcess::EdgenasdProcess(const std::string& data_dir, std::vector<std::string> extra) {
  int pipefd[2];
  if (pipe(pipefd) != 0) return;
  pid_ = fork();
  if (pid_ == 0) {
    dup2(pipefd[1], STDOUT_FILENO);
    close(pipefd[0]);
    close(pipefd[1]);
    std::vector<std::string> args = {EDGENASD_PATH, "--data-dir", data_dir, "--listen", "127.0.0.1:0"};
    args.insert(args.end(), extra.begin(), extra.end());
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(pipefd[1]);
  out_fd_ = pipefd[0];
  // "edgenasd: serving on 127.0.0.1:PORT (...)"
  std::string text;
  char buf[256];
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    ssize_t n = read(out_fd_, buf, sizeof buf);
    if (n <= 0) break;
    text.append(buf, n);
    size_t at = text.find("serving on 127.0.0.1:");
    if (at != std::string::npos) {
      size_t start = at + strlen("serving on 127.0.0.1:");
      size_t end = text.find(' ', start);
      if (end != std::string::npos) {
        port_ = std::atoi(text.substr(start, end - start).c_str());
        break;
      }
    }
  }
  // Keep draining its output so it never blocks on a full pipe.
  int fd = out_fd_;
  std::thread([fd] {
    char b[4096];
    while (read(fd, b, sizeof b) > 0) {
    }
    close(fd);
  }).detach();
}

EdgenasdProcess::~EdgenasdProcess() {
  if (pid_ > 0) Stop();
}

void EdgenasdProcess::Kill() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

int EdgenasdProcess::Stop() {
  if (pid_ <= 0) return -1;
  kill(pid_, SIGTERM);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::unique_ptr<v1::SearchService::Stub> EdgenasdProcess::Search() {
  return v1::SearchService::NewStub(grpc::CreateChannel(address(), grpc::InsecureChannelCredentials()));
}

std::unique_ptr<v1::WorkerService::Stub> EdgenasdProcess::Workers() {
  return v1::WorkerService::NewStub(grpc::CreateChannel(address(), grpc::InsecureChannelCredentials()));
}

std::unique_ptr<v1::AdminService::Stub> EdgenasdProcess::Admin() {
  return v1::AdminService::NewStub(grpc::CreateChannel(address(), grpc::InsecureChannelCredentials()));
}

std::unique_ptr<grpc::ClientContext> EdgenasdProcess::Context(const std::string& token, int timeout_s) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  if (!token.empty()) ctx->AddMetadata("authorization", "Bearer " + token);
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(timeout_s));
  return ctx;
}

std::string ReadToken(const std::string& path) {
  std::ifstream in(path);
  std::string t;
  std::getline(in, t);
  return t;
}

std::string MakeTempDir() {
  std::string tmpl = ::testing::TempDir() + "edgenas-XXXXXX";
  char* dir = mkdtemp(tmpl.data());
  return dir ? std::string(dir) : std::string();
}

bool HaveFashionMnist() {
  return access("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz", R_OK) == 0;
}

}  // namespace testing
}  // namespace edgenas
