// Subcommands whose components have not landed yet. Each says what it will do and exits 2, so scripts
// can tell "not built" from success or bad input.
#include <cstdio>

#include "app/commands.h"

namespace seer::app {
namespace {

struct Pending {
  const char* name;
  const char* summary;
};

constexpr Pending kPending[] = {
    {"run", "Start reward service, rollout workers and learners on this machine"},
};

}  // namespace

void add_pending_commands(CLI::App& app, Invocation& inv) {
  for (const Pending& p : kPending) {
    CLI::App* cmd = app.add_subcommand(p.name, p.summary);
    cmd->allow_extras();     // whatever it is given, it answers "not available" rather than a usage error
    cmd->prefix_command();
    cmd->fallthrough(false);
    const char* name = p.name;
    cmd->callback([name, &inv] {
      std::fprintf(stderr, "seer %s: not available in this build yet\n", name);
      inv.exit_code = kExitUnavailable;
    });
  }
}

}  // namespace seer::app
