// The subcommands of the native `tracestore` command line. Each returns the
// process exit code: 0 success, 1 the trace is unsound (verify), 2 usage or
// open error, 3 a partial answer: the trace is damaged (the reader's
// problems are on stderr) and the output holds what could be read.

#ifndef TRACESTORE_TOOLS_CLI_COMMANDS_H_
#define TRACESTORE_TOOLS_CLI_COMMANDS_H_

#include <string>
#include <vector>

namespace tracestore::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitUnsound = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitPartial = 3;

int RunInfo(const std::vector<std::string>& args);
int RunVerify(const std::vector<std::string>& args);
int RunQuery(const std::vector<std::string>& args);
int RunExport(const std::vector<std::string>& args);
int RunTop(const std::vector<std::string>& args);
int RunLines(const std::vector<std::string>& args);

}  // namespace tracestore::cli

#endif  // TRACESTORE_TOOLS_CLI_COMMANDS_H_
