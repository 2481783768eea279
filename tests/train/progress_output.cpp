// The progress display: to a file (or pipe) fit() writes one line per epoch, byte for byte in the format
// below, built here from the epoch records; silent writes nothing; on a terminal (a pty here) the live bar
// is redrawn in place and each epoch ends with its line.
#include <doctest/doctest.h>

#include <cstddef>
#include <cstdio>
#include <fcntl.h>
#include <pty.h>
#include <string>
#include <termios.h>
#include <unistd.h>

#include "fixtures.hpp"

using namespace tenfold;
using train_test::line_model;

namespace {

std::string read_all(std::FILE* f) {
  std::fflush(f);
  std::rewind(f);
  std::string text;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
  return text;
}

std::string expected_line(const epoch_record& r, std::size_t epochs) {
  char line[512];
  std::snprintf(line, sizeof line,
                "epoch %zu/%zu loss %.4f mae %.4f val_loss %.4f val_mae %.4f lr %.3g %.2fs %.0f samples/s\n", r.epoch,
                epochs, r.loss, r.metric, r.validation_loss, r.validation_metric, r.learning_rate, r.seconds,
                r.samples_per_second);
  return line;
}

history train_to(std::FILE* out, progress style) {
  line_model m(6);
  auto options = train_test::quiet(3);
  options.progress = style;
  options.output = out;
  options.metric = metric::mae;
  options.validation_split = 0.25;
  return fit(m, train_test::line_data(40, 1.5, -0.5), mse{}, sgd{.lr = 0.1}, options);
}

}  // namespace

TEST_CASE("progress to a file: one line per epoch, byte for byte") {
  for (progress style : {progress::lines, progress::automatic}) {
    INFO("style " << int(style));
    std::FILE* f = std::tmpfile();
    REQUIRE(f);
    const history h = train_to(f, style);
    std::string expected;
    for (const auto& r : h.epochs) expected += expected_line(r, 3);
    CHECK(read_all(f) == expected);
    std::fclose(f);
  }
}

TEST_CASE("progress::silent writes nothing") {
  std::FILE* f = std::tmpfile();
  REQUIRE(f);
  train_to(f, progress::silent);
  CHECK(read_all(f).empty());
  std::fclose(f);
}

TEST_CASE("progress on a terminal: a bar redrawn in place, then the epoch's line") {
  int master = -1, slave = -1;
  REQUIRE(openpty(&master, &slave, nullptr, nullptr, nullptr) == 0);
  termios raw{};
  REQUIRE(tcgetattr(slave, &raw) == 0);
  cfmakeraw(&raw);  // no "\n" → "\r\n" translation: the bytes read are the bytes written
  REQUIRE(tcsetattr(slave, TCSANOW, &raw) == 0);
  std::FILE* tty = fdopen(slave, "w");
  REQUIRE(tty);
  const history h = train_to(tty, progress::automatic);
  std::fclose(tty);
  std::string text;
  char buf[4096];
  ssize_t n;
  while ((n = read(master, buf, sizeof buf)) > 0) text.append(buf, std::size_t(n));  // ends with EIO once drained
  close(master);

  std::size_t from = 0;
  for (const auto& r : h.epochs) {
    INFO("epoch " << r.epoch);
    // The bar, complete, for the last of the epoch's 4 batches (30 training samples, batches of 8)...
    const std::string bar = "\r\033[Kepoch " + std::to_string(r.epoch) + "/3 [########################] 4/4 loss ";
    const std::size_t at = text.find(bar, from);
    REQUIRE(at != std::string::npos);
    // ...then cleared and replaced by the epoch's line.
    const std::string line = "\r\033[K" + expected_line(r, 3);
    const std::size_t line_at = text.find(line, at);
    REQUIRE(line_at != std::string::npos);
    from = line_at + line.size();
  }
  CHECK(from == text.size());
}
