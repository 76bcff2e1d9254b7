#include "sim/engine/child_process.hpp"

#include "sim/scenario/error.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <string>

using namespace ddlsim::scenario;

namespace ddlsim::engine {

namespace {
bool write_all(int fd, const std::string& data)
{
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}
}  // namespace

Child start_child(const std::function<nlohmann::json()>& fn)
{
  int fd[2];
  if (::pipe(fd) != 0)
    throw SimulationError("cannot create a pipe for the simulation process");
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fd[0]);
    ::close(fd[1]);
    throw SimulationError("cannot fork the simulation process");
  }
  if (pid == 0) {
    // Crash handlers inherited from the parent (a test framework's, a sweep's) must not run here.
    for (int sig : {SIGABRT, SIGSEGV, SIGFPE, SIGILL, SIGBUS, SIGTERM, SIGINT, SIGPIPE})
      std::signal(sig, SIG_DFL);
    ::close(fd[0]);
    nlohmann::json out;
    try {
      out = {{"result", fn()}};
    } catch (const ScenarioError& e) {
      out = {{"scenario_error", e.what()}};
    } catch (const std::exception& e) {
      out = {{"simulation_error", e.what()}};
    }
    std::fflush(nullptr);
    ::_exit(write_all(fd[1], out.dump()) ? 0 : 3);  // _exit: no SimGrid teardown in the child
  }
  ::close(fd[1]);
  return Child{pid, fd[0], {}};
}

bool read_child(Child& child)
{
  char buffer[65536];
  for (;;) {
    const ssize_t n = ::read(child.fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return false;
    child.data.append(buffer, static_cast<std::size_t>(n));
    if (n < static_cast<ssize_t>(sizeof buffer))
      return true;
  }
}

nlohmann::json finish_child(Child& child, int* signal_out)
{
  if (child.fd >= 0) {
    ::close(child.fd);
    child.fd = -1;
  }
  int status = 0;
  while (::waitpid(child.pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (signal_out)
    *signal_out = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  if (WIFSIGNALED(status))
    throw SimulationError("the simulation process was killed by signal " + std::to_string(WTERMSIG(status)));
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || child.data.empty())
    throw SimulationError("the simulation process failed (exit status " + std::to_string(WEXITSTATUS(status)) + ")");
  const nlohmann::json out = nlohmann::json::parse(child.data);
  if (out.contains("scenario_error"))
    throw ScenarioError(out["scenario_error"].get<std::string>());
  if (out.contains("simulation_error"))
    throw SimulationError(out["simulation_error"].get<std::string>());
  return out["result"];
}

nlohmann::json run_in_child(const std::function<nlohmann::json()>& fn)
{
  Child child = start_child(fn);
  while (read_child(child)) {
  }
  return finish_child(child);
}

}  // namespace ddlsim::engine
