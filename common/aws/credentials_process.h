// credential_process: run an external command that prints credentials as JSON on stdout
// (https://docs.aws.amazon.com/cli/latest/userguide/cli-configure-sourcing-external.html).
// The command runs under /bin/sh -c via posix_spawn; its stdout is read asynchronously on the event loop
// (asio posix::stream_descriptor), never blocking it; stderr is inherited (the tool's own diagnostics).
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>

#include <boost/asio/io_context.hpp>

#include "common/aws/sigv4.h"
#include "common/result/result.h"

namespace common::aws {

// Largest stdout accepted from a credential_process command.
inline constexpr std::size_t kMaxCredentialProcessOutput = 64 * 1024;
inline constexpr std::chrono::milliseconds kDefaultCredentialProcessTimeout{30000};

// Version 1 document: {"Version":1,"AccessKeyId","SecretAccessKey","SessionToken"?,"Expiration"?}.
// Errors never quote the document.
[[nodiscard]] common::Result<Credentials> parse_credential_process_output(std::string_view json);

// Runs `command`; `done` is called once on the io_context's thread (never inline) with the parsed
// credentials, or an error: spawn failure, timeout (the child is SIGKILLed), non-zero exit, bad output.
void run_credential_process(boost::asio::io_context& io, const std::string& command, std::chrono::milliseconds timeout,
                            std::function<void(common::Result<Credentials>)> done);

}  // namespace common::aws
