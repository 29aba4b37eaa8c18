#include "agent/pipeline/trail_mapper.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdio>
#include <map>

#include "agent/parsers/audit_record.h"
#include "agent/parsers/audit_types.h"
#include "common/aws/sigv4.h"

namespace agent {
namespace {

// Generated from the Linux UAPI headers (asm/unistd_64.h; asm-generic/unistd.h with arm64's
// __ARCH_WANT_* set): index = syscall number, "" = unassigned.
constexpr std::array<std::string_view, 451> kX86_64Syscalls = {
    "read", "write", "open", "close", "stat", "fstat", "lstat", "poll", "lseek", "mmap", "mprotect", "munmap",
    "brk", "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "ioctl", "pread64", "pwrite64", "readv",
    "writev", "access", "pipe", "select", "sched_yield", "mremap", "msync", "mincore", "madvise", "shmget",
    "shmat", "shmctl", "dup", "dup2", "pause", "nanosleep", "getitimer", "alarm", "setitimer", "getpid",
    "sendfile", "socket", "connect", "accept", "sendto", "recvfrom", "sendmsg", "recvmsg", "shutdown", "bind",
    "listen", "getsockname", "getpeername", "socketpair", "setsockopt", "getsockopt", "clone", "fork",
    "vfork", "execve", "exit", "wait4", "kill", "uname", "semget", "semop", "semctl", "shmdt", "msgget",
    "msgsnd", "msgrcv", "msgctl", "fcntl", "flock", "fsync", "fdatasync", "truncate", "ftruncate", "getdents",
    "getcwd", "chdir", "fchdir", "rename", "mkdir", "rmdir", "creat", "link", "unlink", "symlink", "readlink",
    "chmod", "fchmod", "chown", "fchown", "lchown", "umask", "gettimeofday", "getrlimit", "getrusage",
    "sysinfo", "times", "ptrace", "getuid", "syslog", "getgid", "setuid", "setgid", "geteuid", "getegid",
    "setpgid", "getppid", "getpgrp", "setsid", "setreuid", "setregid", "getgroups", "setgroups", "setresuid",
    "getresuid", "setresgid", "getresgid", "getpgid", "setfsuid", "setfsgid", "getsid", "capget", "capset",
    "rt_sigpending", "rt_sigtimedwait", "rt_sigqueueinfo", "rt_sigsuspend", "sigaltstack", "utime", "mknod",
    "uselib", "personality", "ustat", "statfs", "fstatfs", "sysfs", "getpriority", "setpriority",
    "sched_setparam", "sched_getparam", "sched_setscheduler", "sched_getscheduler", "sched_get_priority_max",
    "sched_get_priority_min", "sched_rr_get_interval", "mlock", "munlock", "mlockall", "munlockall",
    "vhangup", "modify_ldt", "pivot_root", "_sysctl", "prctl", "arch_prctl", "adjtimex", "setrlimit",
    "chroot", "sync", "acct", "settimeofday", "mount", "umount2", "swapon", "swapoff", "reboot",
    "sethostname", "setdomainname", "iopl", "ioperm", "create_module", "init_module", "delete_module",
    "get_kernel_syms", "query_module", "quotactl", "nfsservctl", "getpmsg", "putpmsg", "afs_syscall",
    "tuxcall", "security", "gettid", "readahead", "setxattr", "lsetxattr", "fsetxattr", "getxattr",
    "lgetxattr", "fgetxattr", "listxattr", "llistxattr", "flistxattr", "removexattr", "lremovexattr",
    "fremovexattr", "tkill", "time", "futex", "sched_setaffinity", "sched_getaffinity", "set_thread_area",
    "io_setup", "io_destroy", "io_getevents", "io_submit", "io_cancel", "get_thread_area", "lookup_dcookie",
    "epoll_create", "epoll_ctl_old", "epoll_wait_old", "remap_file_pages", "getdents64", "set_tid_address",
    "restart_syscall", "semtimedop", "fadvise64", "timer_create", "timer_settime", "timer_gettime",
    "timer_getoverrun", "timer_delete", "clock_settime", "clock_gettime", "clock_getres", "clock_nanosleep",
    "exit_group", "epoll_wait", "epoll_ctl", "tgkill", "utimes", "vserver", "mbind", "set_mempolicy",
    "get_mempolicy", "mq_open", "mq_unlink", "mq_timedsend", "mq_timedreceive", "mq_notify", "mq_getsetattr",
    "kexec_load", "waitid", "add_key", "request_key", "keyctl", "ioprio_set", "ioprio_get", "inotify_init",
    "inotify_add_watch", "inotify_rm_watch", "migrate_pages", "openat", "mkdirat", "mknodat", "fchownat",
    "futimesat", "newfstatat", "unlinkat", "renameat", "linkat", "symlinkat", "readlinkat", "fchmodat",
    "faccessat", "pselect6", "ppoll", "unshare", "set_robust_list", "get_robust_list", "splice", "tee",
    "sync_file_range", "vmsplice", "move_pages", "utimensat", "epoll_pwait", "signalfd", "timerfd_create",
    "eventfd", "fallocate", "timerfd_settime", "timerfd_gettime", "accept4", "signalfd4", "eventfd2",
    "epoll_create1", "dup3", "pipe2", "inotify_init1", "preadv", "pwritev", "rt_tgsigqueueinfo",
    "perf_event_open", "recvmmsg", "fanotify_init", "fanotify_mark", "prlimit64", "name_to_handle_at",
    "open_by_handle_at", "clock_adjtime", "syncfs", "sendmmsg", "setns", "getcpu", "process_vm_readv",
    "process_vm_writev", "kcmp", "finit_module", "sched_setattr", "sched_getattr", "renameat2", "seccomp",
    "getrandom", "memfd_create", "kexec_file_load", "bpf", "execveat", "userfaultfd", "membarrier", "mlock2",
    "copy_file_range", "preadv2", "pwritev2", "pkey_mprotect", "pkey_alloc", "pkey_free", "statx",
    "io_pgetevents", "rseq", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "",
    "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "",
    "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "",
    "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "pidfd_send_signal", "io_uring_setup",
    "io_uring_enter", "io_uring_register", "open_tree", "move_mount", "fsopen", "fsconfig", "fsmount",
    "fspick", "pidfd_open", "clone3", "close_range", "openat2", "pidfd_getfd", "faccessat2",
    "process_madvise", "epoll_pwait2", "mount_setattr", "quotactl_fd", "landlock_create_ruleset",
    "landlock_add_rule", "landlock_restrict_self", "memfd_secret", "process_mrelease", "futex_waitv",
    "set_mempolicy_home_node",
};

constexpr std::array<std::string_view, 451> kAarch64Syscalls = {
    "io_setup", "io_destroy", "io_submit", "io_cancel", "io_getevents", "setxattr", "lsetxattr", "fsetxattr",
    "getxattr", "lgetxattr", "fgetxattr", "listxattr", "llistxattr", "flistxattr", "removexattr",
    "lremovexattr", "fremovexattr", "getcwd", "lookup_dcookie", "eventfd2", "epoll_create1", "epoll_ctl",
    "epoll_pwait", "dup", "dup3", "fcntl", "inotify_init1", "inotify_add_watch", "inotify_rm_watch", "ioctl",
    "ioprio_set", "ioprio_get", "flock", "mknodat", "mkdirat", "unlinkat", "symlinkat", "linkat", "renameat",
    "umount2", "mount", "pivot_root", "nfsservctl", "statfs", "fstatfs", "truncate", "ftruncate", "fallocate",
    "faccessat", "chdir", "fchdir", "chroot", "fchmod", "fchmodat", "fchownat", "fchown", "openat", "close",
    "vhangup", "pipe2", "quotactl", "getdents64", "lseek", "read", "write", "readv", "writev", "pread64",
    "pwrite64", "preadv", "pwritev", "sendfile", "pselect6", "ppoll", "signalfd4", "vmsplice", "splice",
    "tee", "readlinkat", "newfstatat", "fstat", "sync", "fsync", "fdatasync", "sync_file_range",
    "timerfd_create", "timerfd_settime", "timerfd_gettime", "utimensat", "acct", "capget", "capset",
    "personality", "exit", "exit_group", "waitid", "set_tid_address", "unshare", "futex", "set_robust_list",
    "get_robust_list", "nanosleep", "getitimer", "setitimer", "kexec_load", "init_module", "delete_module",
    "timer_create", "timer_gettime", "timer_getoverrun", "timer_settime", "timer_delete", "clock_settime",
    "clock_gettime", "clock_getres", "clock_nanosleep", "syslog", "ptrace", "sched_setparam",
    "sched_setscheduler", "sched_getscheduler", "sched_getparam", "sched_setaffinity", "sched_getaffinity",
    "sched_yield", "sched_get_priority_max", "sched_get_priority_min", "sched_rr_get_interval",
    "restart_syscall", "kill", "tkill", "tgkill", "sigaltstack", "rt_sigsuspend", "rt_sigaction",
    "rt_sigprocmask", "rt_sigpending", "rt_sigtimedwait", "rt_sigqueueinfo", "rt_sigreturn", "setpriority",
    "getpriority", "reboot", "setregid", "setgid", "setreuid", "setuid", "setresuid", "getresuid",
    "setresgid", "getresgid", "setfsuid", "setfsgid", "times", "setpgid", "getpgid", "getsid", "setsid",
    "getgroups", "setgroups", "uname", "sethostname", "setdomainname", "getrlimit", "setrlimit", "getrusage",
    "umask", "prctl", "getcpu", "gettimeofday", "settimeofday", "adjtimex", "getpid", "getppid", "getuid",
    "geteuid", "getgid", "getegid", "gettid", "sysinfo", "mq_open", "mq_unlink", "mq_timedsend",
    "mq_timedreceive", "mq_notify", "mq_getsetattr", "msgget", "msgctl", "msgrcv", "msgsnd", "semget",
    "semctl", "semtimedop", "semop", "shmget", "shmctl", "shmat", "shmdt", "socket", "socketpair", "bind",
    "listen", "accept", "connect", "getsockname", "getpeername", "sendto", "recvfrom", "setsockopt",
    "getsockopt", "shutdown", "sendmsg", "recvmsg", "readahead", "brk", "munmap", "mremap", "add_key",
    "request_key", "keyctl", "clone", "execve", "mmap", "fadvise64", "swapon", "swapoff", "mprotect", "msync",
    "mlock", "munlock", "mlockall", "munlockall", "mincore", "madvise", "remap_file_pages", "mbind",
    "get_mempolicy", "set_mempolicy", "migrate_pages", "move_pages", "rt_tgsigqueueinfo", "perf_event_open",
    "accept4", "recvmmsg", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "wait4",
    "prlimit64", "fanotify_init", "fanotify_mark", "name_to_handle_at", "open_by_handle_at", "clock_adjtime",
    "syncfs", "setns", "sendmmsg", "process_vm_readv", "process_vm_writev", "kcmp", "finit_module",
    "sched_setattr", "sched_getattr", "renameat2", "seccomp", "getrandom", "memfd_create", "bpf", "execveat",
    "userfaultfd", "membarrier", "mlock2", "copy_file_range", "preadv2", "pwritev2", "pkey_mprotect",
    "pkey_alloc", "pkey_free", "statx", "io_pgetevents", "rseq", "kexec_file_load", "", "", "", "", "", "",
    "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "",
    "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "",
    "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "",
    "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "",
    "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "pidfd_send_signal",
    "io_uring_setup", "io_uring_enter", "io_uring_register", "open_tree", "move_mount", "fsopen", "fsconfig",
    "fsmount", "fspick", "pidfd_open", "clone3", "close_range", "openat2", "pidfd_getfd", "faccessat2",
    "process_madvise", "epoll_pwait2", "mount_setattr", "quotactl_fd", "landlock_create_ruleset",
    "landlock_add_rule", "landlock_restrict_self", "memfd_secret", "process_mrelease", "futex_waitv",
    "set_mempolicy_home_node",
};

// errno numbers shared by x86_64 and aarch64 (asm-generic/errno-base.h + errno.h).
struct ErrnoName {
  int64_t number;
  std::string_view name;
};
constexpr std::array<ErrnoName, 61> kErrnoNames = {{
    {1, "EPERM"},         {2, "ENOENT"},         {3, "ESRCH"},          {4, "EINTR"},
    {5, "EIO"},           {6, "ENXIO"},          {7, "E2BIG"},          {8, "ENOEXEC"},
    {9, "EBADF"},         {10, "ECHILD"},        {11, "EAGAIN"},        {12, "ENOMEM"},
    {13, "EACCES"},       {14, "EFAULT"},        {15, "ENOTBLK"},       {16, "EBUSY"},
    {17, "EEXIST"},       {18, "EXDEV"},         {19, "ENODEV"},        {20, "ENOTDIR"},
    {21, "EISDIR"},       {22, "EINVAL"},        {23, "ENFILE"},        {24, "EMFILE"},
    {25, "ENOTTY"},       {26, "ETXTBSY"},       {27, "EFBIG"},         {28, "ENOSPC"},
    {29, "ESPIPE"},       {30, "EROFS"},         {31, "EMLINK"},        {32, "EPIPE"},
    {33, "EDOM"},         {34, "ERANGE"},        {35, "EDEADLK"},       {36, "ENAMETOOLONG"},
    {37, "ENOLCK"},       {38, "ENOSYS"},        {39, "ENOTEMPTY"},     {40, "ELOOP"},
    {61, "ENODATA"},      {75, "EOVERFLOW"},     {88, "ENOTSOCK"},      {90, "EMSGSIZE"},
    {92, "ENOPROTOOPT"},  {93, "EPROTONOSUPPORT"}, {95, "EOPNOTSUPP"},  {97, "EAFNOSUPPORT"},
    {98, "EADDRINUSE"},   {99, "EADDRNOTAVAIL"}, {100, "ENETDOWN"},     {101, "ENETUNREACH"},
    {103, "ECONNABORTED"}, {104, "ECONNRESET"},  {106, "EISCONN"},      {107, "ENOTCONN"},
    {110, "ETIMEDOUT"},   {111, "ECONNREFUSED"}, {113, "EHOSTUNREACH"}, {114, "EALREADY"},
    {115, "EINPROGRESS"},
}};

constexpr uint32_t kUnsetId = 4294967295u;

bool is_placeholder(std::string_view v) {
  return v.empty() || v == "?" || v == "(null)" || v == "(none)" || v == "\"?\"";
}

// The decoded value, "" for placeholders.
std::string decoded(std::optional<std::string_view> raw) {
  if (!raw || is_placeholder(*raw)) return {};
  std::string out = audit_decode_value(*raw);
  if (is_placeholder(out)) return {};
  return out;
}

// A value auditd never hex-encodes (op=, terminal=, hostname=, addr=, res=, tty=, nametype=):
// quotes stripped, never hex-decoded ("op=cafe" stays "cafe"); "" for placeholders.
std::string plain(std::optional<std::string_view> raw) {
  if (!raw || is_placeholder(*raw)) return {};
  std::string_view v = *raw;
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
  if (is_placeholder(v)) return {};
  return std::string(v);
}

template <typename Int>
std::optional<Int> parse_int(std::string_view v, int base = 10) {
  Int out{};
  if (v.empty()) return std::nullopt;
  const char* end = v.data() + v.size();
  auto [ptr, ec] = std::from_chars(v.data(), end, out, base);
  if (ec != std::errc() || ptr != end) return std::nullopt;
  return out;
}

// auid/uid/ses: decimal; 4294967295 and -1 mean unset.
std::optional<uint32_t> parse_id(std::optional<std::string_view> raw) {
  if (!raw) return std::nullopt;
  if (*raw == "-1") return std::nullopt;
  const auto v = parse_int<uint32_t>(*raw);
  if (!v || *v == kUnsetId) return std::nullopt;
  return v;
}

std::optional<int64_t> parse_i64(std::optional<std::string_view> raw) {
  if (!raw) return std::nullopt;
  return parse_int<int64_t>(*raw);
}

std::string enriched_value(const AuditRecord& rec, std::string_view name) {
  if (!rec.has_enriched()) return {};
  for (const auto& f : rec.enriched_fields()) {
    if (f.name == name) {
      std::string v = audit_decode_value(f.value);
      if (v == "unset" || is_placeholder(v)) return {};
      return v;
    }
  }
  return {};
}

const AuditRecord* first_of_type(const AuditEvent& e, int32_t type) {
  for (const auto& r : e.records)
    if (r.type() == type) return &r;
  return nullptr;
}

// The first record (preferring `preferred`) that has the field.
const AuditRecord* first_with(const AuditEvent& e, std::string_view name, const AuditRecord* preferred = nullptr) {
  if (preferred != nullptr && preferred->find(name)) return preferred;
  for (const auto& r : e.records)
    if (r.find(name)) return &r;
  return nullptr;
}

std::optional<std::string_view> find_any(const AuditEvent& e, std::string_view name,
                                         const AuditRecord* preferred = nullptr) {
  const AuditRecord* r = first_with(e, name, preferred);
  if (r == nullptr) return std::nullopt;
  return r->find(name);
}

bool is_ip_address(const std::string& s) {
  unsigned char buf[16];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

// EXECVE a0..aN, aN_len + aN[i] pieces, across several records.
std::string execve_command_line(const AuditEvent& e, std::optional<int64_t>& argc_out) {
  std::map<int64_t, std::string> whole;
  std::map<int64_t, std::map<int64_t, std::string>> pieces;
  bool any = false;
  for (const auto& rec : e.records) {
    if (rec.type_name() != "EXECVE") continue;
    any = true;
    for (std::size_t i = 0; i < rec.field_count(); ++i) {
      const AuditFieldView f = rec.field(i);
      if (f.name == "argc") {
        argc_out = parse_int<int64_t>(f.value);
        continue;
      }
      if (f.name.size() < 2 || f.name[0] != 'a') continue;
      std::string_view rest = f.name.substr(1);
      const std::size_t bracket = rest.find('[');
      if (bracket != std::string_view::npos && rest.back() == ']') {
        const auto arg = parse_int<int64_t>(rest.substr(0, bracket));
        const auto piece = parse_int<int64_t>(rest.substr(bracket + 1, rest.size() - bracket - 2));
        if (arg && piece) pieces[*arg][*piece] = audit_decode_value(f.value);
        continue;
      }
      if (const auto arg = parse_int<int64_t>(rest)) whole[*arg] = audit_decode_value(f.value);
      // aN_len and anything else: not an argument
    }
  }
  if (!any) return {};
  for (auto& [arg, parts] : pieces) {
    std::string joined;
    for (auto& [idx, text] : parts) joined += text;
    whole[arg] = std::move(joined);
  }
  std::string out;
  for (const auto& [arg, text] : whole) {
    if (argc_out && arg >= *argc_out) break;
    if (!out.empty()) out.push_back(' ');
    out += text;
  }
  return out;
}

// Records that only add detail to a SYSCALL record (linux/audit.h 1302..1327).
bool is_auxiliary(std::string_view type) {
  static constexpr std::array<std::string_view, 15> kAux = {
      "PATH", "IPC", "SOCKETCALL", "SOCKADDR", "CWD", "EXECVE", "MQ_SENDRECV", "MQ_NOTIFY", "MQ_GETSETATTR",
      "FD_PAIR", "OBJ_PID", "BPRM_FCAPS", "CAPSET", "MMAP", "PROCTITLE"};
  return type == "EOE" || std::find(kAux.begin(), kAux.end(), type) != kAux.end();
}

bool res_is_success(std::string_view v) { return v == "success" || v == "1" || v == "yes"; }
bool res_is_failure(std::string_view v) { return v == "failed" || v == "0" || v == "no" || v == "failure"; }

}  // namespace

std::string_view audit_arch_name(std::string_view arch_hex) noexcept {
  std::string lower(arch_hex);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return static_cast<char>(c | 0x20); });
  if (lower == "c000003e") return "x86_64";
  if (lower == "c00000b7") return "aarch64";
  if (lower == "40000003") return "i386";
  if (lower == "40000028") return "arm";
  if (lower == "80000015") return "ppc64";
  if (lower == "c0000015") return "ppc64le";
  if (lower == "80000016") return "s390x";
  if (lower == "c00000f3") return "riscv64";
  return {};
}

std::string_view syscall_name(std::string_view arch_name, int64_t number) noexcept {
  if (number < 0) return {};
  const auto n = static_cast<std::size_t>(number);
  if (arch_name == "x86_64" && n < kX86_64Syscalls.size()) return kX86_64Syscalls[n];
  if (arch_name == "aarch64" && n < kAarch64Syscalls.size()) return kAarch64Syscalls[n];
  return {};
}

std::string_view errno_name(int64_t err) noexcept {
  for (const auto& e : kErrnoNames)
    if (e.number == err) return e.name;
  return {};
}

std::optional<TrailSocket> decode_sockaddr(std::string_view saddr_hex) {
  if (!audit_value_is_hex(saddr_hex) || saddr_hex.size() < 4) return std::nullopt;
  const std::string b = audit_decode_value(saddr_hex);
  auto byte = [&](std::size_t i) { return static_cast<unsigned char>(b[i]); };
  // sa_family is host order; audit logs come from little-endian x86_64/aarch64 hosts.
  const unsigned family = byte(0) | (byte(1) << 8);
  TrailSocket s;
  switch (family) {
    case AF_UNIX: {
      s.family = "unix";
      std::string path = b.substr(2);
      if (!path.empty() && path[0] == '\0') {
        const std::size_t end = path.find('\0', 1);
        s.address = "@" + path.substr(1, end == std::string::npos ? std::string::npos : end - 1);
      } else {
        s.address = path.substr(0, path.find('\0'));
      }
      return s;
    }
    case AF_INET: {
      s.family = "inet";
      if (b.size() < 8) return s;
      s.port = static_cast<uint16_t>((byte(2) << 8) | byte(3));
      char text[INET_ADDRSTRLEN];
      if (inet_ntop(AF_INET, b.data() + 4, text, sizeof text) != nullptr) s.address = text;
      return s;
    }
    case AF_INET6: {
      s.family = "inet6";
      if (b.size() < 24) return s;
      s.port = static_cast<uint16_t>((byte(2) << 8) | byte(3));
      char text[INET6_ADDRSTRLEN];
      if (inet_ntop(AF_INET6, b.data() + 8, text, sizeof text) != nullptr) s.address = text;
      return s;
    }
    case AF_NETLINK: s.family = "netlink"; return s;
    default: s.family = "af_" + std::to_string(family); return s;
  }
}

std::string decode_proctitle(std::string_view raw) {
  std::string out = audit_decode_value(raw);
  while (!out.empty() && out.back() == '\0') out.pop_back();
  std::replace(out.begin(), out.end(), '\0', ' ');
  return out;
}

std::string make_trail_event_id(const HostContext& host, std::string_view node, int64_t sec, uint32_t ms,
                                uint64_t serial, std::string_view first_line) {
  char stamp[64];
  std::snprintf(stamp, sizeof stamp, "%lld.%03u|%llu", static_cast<long long>(sec), ms,
                static_cast<unsigned long long>(serial));
  std::string name(host_id_for_events(host));
  // The line last, after the fixed-shape stamp (it may hold any byte, '|' included).
  name.append("|").append(node).append("|").append(stamp).append("|").append(first_line);
  std::string hex = common::aws::sha256_hex(name).substr(0, 32);
  hex[12] = '8';  // RFC 9562 version 8 (custom; SHA-256 name-based)
  static constexpr char kHex[] = "0123456789abcdef";
  const auto nibble = static_cast<unsigned>(hex[16] >= 'a' ? hex[16] - 'a' + 10 : hex[16] - '0');
  hex[16] = kHex[8 | (nibble & 3)];  // variant 10xx
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" + hex.substr(16, 4) + "-" +
         hex.substr(20, 12);
}

TrailRecord map_event(const AuditEvent& event, const HostContext& host, const TrailMapperOptions& options) {
  TrailRecord r;
  const AuditTimestamp& ts = event.timestamp();
  r.node = std::string(event.node());
  r.serial = ts.serial;
  r.time_ms = ts.sec * 1000 + ts.ms;
  r.request_id = to_string(event.id);
  r.event_id = make_trail_event_id(host, r.node, ts.sec, ts.ms, ts.serial,
                                   event.records.empty() ? std::string_view() : event.records.front().line());
  r.instance_id = host.instance_id;
  r.hostname = host.hostname;
  r.account_id = host.account_id;
  r.region = host.region;

  for (const auto& rec : event.records) {
    r.record_types.emplace_back(rec.type_name());
    if (r.raw_lines.size() < options.max_raw_lines) r.raw_lines.emplace_back(rec.line());
    r.lines_cut = r.lines_cut || rec.cut();
  }
  // The primary record: the first one that is not a syscall's auxiliary record (EXECVE, PATH, ...
  // may arrive before their SYSCALL record).
  for (const auto& rec : event.records) {
    if (is_auxiliary(rec.type_name())) continue;
    r.record_type = std::string(rec.type_name());
    break;
  }
  if (r.record_type.empty() && !event.records.empty()) r.record_type = r.record_types.front();

  const AuditRecord* sys = first_of_type(event, kAuditTypeSyscall);

  // what
  if (sys != nullptr) {
    const std::string arch_raw(sys->find("arch").value_or(""));
    const std::string_view arch = audit_arch_name(arch_raw);
    r.arch = !arch.empty() ? std::string(arch) : enriched_value(*sys, "ARCH");
    if (r.arch.empty()) r.arch = arch_raw;
    r.syscall = parse_i64(sys->find("syscall"));
  }
  if (r.record_type == "SYSCALL" && sys != nullptr) {
    std::string name(r.syscall ? syscall_name(r.arch, *r.syscall) : std::string_view());
    if (name.empty()) name = enriched_value(*sys, "SYSCALL");
    if (name.empty()) name = "syscall_" + (r.syscall ? std::to_string(*r.syscall) : std::string("unknown"));
    r.event_name = std::move(name);
  } else {
    r.event_name = r.record_type.empty() ? "UNKNOWN" : r.record_type;
  }
  r.exe = decoded(find_any(event, "exe", sys));
  r.comm = decoded(find_any(event, "comm", sys));
  r.pid = parse_i64(find_any(event, "pid", sys));
  r.ppid = parse_i64(find_any(event, "ppid", sys));
  if (const AuditRecord* cwd = first_of_type(event, audit_type_number("CWD"))) r.cwd = decoded(cwd->find("cwd"));
  r.command_line = execve_command_line(event, r.argc);
  if (r.command_line.empty()) {
    if (const AuditRecord* pt = first_of_type(event, kAuditTypeProctitle)) {
      if (const auto v = pt->find("proctitle"); v && !is_placeholder(*v)) r.command_line = decode_proctitle(*v);
    }
  }
  const int32_t path_type = audit_type_number("PATH");
  const int32_t sockaddr_type = audit_type_number("SOCKADDR");
  for (const auto& rec : event.records) {
    if (rec.type() == path_type) {
      r.paths.push_back({decoded(rec.find("name")), std::string(rec.find("nametype").value_or(""))});
    } else if (rec.type() == sockaddr_type && !r.socket) {
      if (const auto v = rec.find("saddr")) r.socket = decode_sockaddr(*v);
    }
    for (std::size_t i = 0; i < rec.field_count(); ++i) {
      const AuditFieldView f = rec.field(i);
      if (f.name != "key") continue;
      std::string k = decoded(f.value);
      if (!k.empty() && std::find(r.keys.begin(), r.keys.end(), k) == r.keys.end()) r.keys.push_back(std::move(k));
    }
  }
  r.operation = plain(find_any(event, "op"));
  r.terminal = plain(find_any(event, "terminal"));

  // who: the SYSCALL record when there is one (it carries the task's credentials), else the first
  // record with an auid/uid. Enriched names come from the same record.
  const AuditRecord* who = sys;
  if (who == nullptr || (!who->find("auid") && !who->find("uid"))) {
    who = first_with(event, "auid");
    if (who == nullptr) who = first_with(event, "uid");
  }
  TrailIdentity& id = r.identity;
  if (who != nullptr) {
    id.auid = parse_id(who->find("auid"));
    id.uid = parse_id(who->find("uid"));
    id.euid = parse_id(who->find("euid"));
    id.ses = parse_id(who->find("ses"));
    id.tty = plain(who->find("tty"));
    if (id.auid) id.auid_name = enriched_value(*who, "AUID");
    if (id.uid) id.uid_name = enriched_value(*who, "UID");
    if (id.euid) id.euid_name = enriched_value(*who, "EUID");
  }
  if (options.user_name) {
    auto fill = [&](const std::optional<uint32_t>& n, std::string& name) {
      if (n && name.empty()) name = options.user_name(*n).value_or("");
    };
    fill(id.auid, id.auid_name);
    fill(id.uid, id.uid_name);
    fill(id.euid, id.euid_name);
  }
  id.account = decoded(find_any(event, "acct"));
  if (id.tty.empty() && !r.terminal.empty() && r.terminal.find('/') != std::string::npos) id.tty = r.terminal;

  // from where
  const std::string addr = plain(find_any(event, "addr"));
  r.remote_hostname = plain(find_any(event, "hostname"));
  if (!addr.empty()) {
    r.source_ip = addr;
    r.remote = true;
  } else if (!r.remote_hostname.empty() && is_ip_address(r.remote_hostname)) {
    r.source_ip = r.remote_hostname;
    r.remote = true;
  } else {
    r.source_ip = host.host_address;
  }

  // result
  if (sys != nullptr && sys->find("success")) {
    const std::string_view s = *sys->find("success");
    r.exit_code = parse_i64(sys->find("exit"));
    r.result = s == "yes" ? TrailResult::kSuccess : TrailResult::kFailure;
    if (r.result == TrailResult::kFailure) {
      if (r.exit_code && *r.exit_code < 0) {
        const std::string_view name = errno_name(-*r.exit_code);
        r.error_code = name.empty() ? "errno_" + std::to_string(-*r.exit_code) : std::string(name);
      } else {
        r.error_code = "failed";
      }
      r.error_message = r.event_name + " failed";
      if (r.exit_code) r.error_message += " (exit=" + std::to_string(*r.exit_code) + ")";
    }
  } else if (const auto res = find_any(event, "res")) {
    const std::string v = plain(res);
    if (res_is_success(v)) {
      r.result = TrailResult::kSuccess;
    } else if (res_is_failure(v)) {
      r.result = TrailResult::kFailure;
      r.error_code = "failed";
      r.error_message = r.event_name;
      if (!r.operation.empty()) r.error_message += " op=" + r.operation;
      if (!id.account.empty()) r.error_message += " acct=" + id.account;
      r.error_message += " res=" + v;
    }
  }
  return r;
}

}  // namespace agent
