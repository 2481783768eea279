// Atomic writes: a save that fails midway, or a process killed while saving, leaves the previous file intact
// and loadable. Failures are simulated with the writer's test probe: it fails the write after a number of
// bytes, or kills the process there (SIGKILL, in a forked child, as a crash would).
#include <doctest/doctest.h>

#include <tenfold/tenfold.hpp>
#include <tenfold/io.hpp>

#include <csignal>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../data/test_files.hpp"

using namespace tenfold;
using test_files::scratch_dir;

namespace {

// Large enough that its checkpoint takes many write blocks (about 50 KB with Adam's two slots).
using net = sequential<input<32>, dense<128>, relu, dense<4>>;
using net_model = model<net, 1>;

std::vector<std::string> files_in(const std::string& folder) {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(folder)) names.push_back(e.path().filename().string());
  return names;
}

struct probe_guard {
  explicit probe_guard(detail::atomic_write_probe p) { detail::installed_atomic_write_probe() = p; }
  ~probe_guard() { detail::installed_atomic_write_probe() = nullptr; }
};

}  // namespace

TEST_CASE("a write that fails midway leaves the old file and no temporary file") {
  scratch_dir dir;
  const std::string path = dir.file("model.safetensors");
  auto old_model = std::make_unique<net_model>(1);
  save_safetensors(*old_model, path);
  auto new_model = std::make_unique<net_model>(2);
  {
    probe_guard fail_after_8k([](std::size_t written) { return written < 8192; });
    auto r = try_save_safetensors(*new_model, path);
    REQUIRE_FALSE(r.ok());
    INFO(r.error().message);
    CHECK(r.error().code == errc::io_error);
    CHECK(std::string(r.error().message).find("cannot write '" + path + "' (writing)") != std::string::npos);
  }
  CHECK(files_in(dir.path()) == std::vector<std::string>{"model.safetensors"});
  auto loaded = std::make_unique<net_model>(3);
  load_safetensors(*loaded, path);
  CHECK(std::memcmp(loaded->params(), old_model->params(), sizeof(float) * net_model::param_count) == 0);
}

TEST_CASE("a process killed while saving a checkpoint leaves the previous checkpoint loadable") {
  scratch_dir dir;
  const std::string path = dir.file("run.ckpt");
  auto old_model = std::make_unique<net_model>(1);
  net_model::optimizer_state_for<adam> state(adam{});
  save_checkpoint(*old_model, state, adam{}, path);

  std::fflush(nullptr);
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    // The child trains a different model and dies (SIGKILL: no cleanup of any kind) 16 KB into saving it.
    detail::installed_atomic_write_probe() = [](std::size_t written) {
      if (written >= 16384) ::kill(::getpid(), SIGKILL);
      return true;
    };
    auto other = std::make_unique<net_model>(2);
    net_model::optimizer_state_for<adam> other_state(adam{});
    other_state.step = 7;
    save_checkpoint(*other, other_state, adam{}, path);
    _exit(0);  // not reached when the probe killed the process: the parent's checks fail then
  }
  int status = 0;
  REQUIRE(waitpid(child, &status, 0) == child);
  REQUIRE(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGKILL);

  // The old checkpoint is whole; the partial temporary file is beside it, never under its name.
  const auto names = files_in(dir.path());
  CHECK(names.size() == 2);
  for (const auto& n : names) CHECK((n == "run.ckpt" || n.rfind("run.ckpt.tmp-", 0) == 0));
  auto loaded = std::make_unique<net_model>(3);
  net_model::optimizer_state_for<adam> loaded_state(adam{});
  load_checkpoint(*loaded, loaded_state, adam{}, path);
  CHECK(loaded_state.step == 0);
  CHECK(std::memcmp(loaded->params(), old_model->params(), sizeof(float) * net_model::param_count) == 0);
}

TEST_CASE("a saved file replaces the old one whole, with ordinary permissions") {
  scratch_dir dir;
  const std::string path = dir.file("model.safetensors");
  save_safetensors(net_model(1), path);
  auto second = std::make_unique<net_model>(2);
  save_safetensors(*second, path);
  auto loaded = std::make_unique<net_model>(3);
  load_safetensors(*loaded, path);
  CHECK(std::memcmp(loaded->params(), second->params(), sizeof(float) * net_model::param_count) == 0);
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  const mode_t mask = ::umask(0);
  ::umask(mask);
  CHECK((st.st_mode & 0777) == (0666 & ~mask));
  // A folder that does not exist is an error naming the file, not a crash.
  auto r = try_save_safetensors(*second, dir.file("no/such/folder/model.safetensors"));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == errc::file_not_found);
}
