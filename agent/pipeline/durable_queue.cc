#include "agent/pipeline/durable_queue.h"

#include "common/fs/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <optional>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

namespace agent {
namespace {

constexpr std::string_view kCrcPrefix = "{\"crc\":";

common::Error sys_error(int err, std::string_view what, const std::string& path) {
  return common::Error(err == EACCES ? common::ErrorCode::kPermissionDenied : common::ErrorCode::kIo,
                       fmt::format("{} {}: {}", what, path, std::strerror(err)));
}

common::Status write_all(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return sys_error(errno, "write", path);
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return {};
}

std::uint32_t crc_of(std::string_view bytes) {
  return static_cast<std::uint32_t>(crc32_z(0, reinterpret_cast<const Bytef*>(bytes.data()), bytes.size()));
}

// `body` is the line after the prefix: `"id":1,"data":"..."}` or `"done":1}`.
std::string checked_line(std::string_view body) {
  const std::string crc = std::to_string(crc_of(body));
  std::string line;
  line.reserve(kCrcPrefix.size() + crc.size() + 1 + body.size() + 1);
  line.append(kCrcPrefix).append(crc).append(1, ',').append(body).append(1, '\n');
  return line;
}

// Bytes that stand for themselves inside a JSON string. Records are mostly ASCII (URL-encoded
// request bodies, notification JSON), which then skip the JSON string escaper and unescaper.
bool verbatim_ascii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char ch) {
    const auto c = static_cast<unsigned char>(ch);
    return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
  });
}

// The body of a checked record line without escapes: `"id":N,"data":"<verbatim>"}`. Anything else
// (escapes, UTF-8) goes through the JSON parser.
std::optional<std::pair<std::uint64_t, std::string_view>> verbatim_record(std::string_view body) {
  constexpr std::string_view kId = "\"id\":";
  constexpr std::string_view kData = ",\"data\":\"";
  constexpr std::string_view kEnd = "\"}";
  if (!body.starts_with(kId)) return std::nullopt;
  body.remove_prefix(kId.size());
  std::uint64_t id = 0;
  const auto [end, ec] = std::from_chars(body.data(), body.data() + body.size(), id);
  if (ec != std::errc()) return std::nullopt;
  body.remove_prefix(static_cast<std::size_t>(end - body.data()));
  if (body.size() < kData.size() + kEnd.size() || !body.starts_with(kData) || !body.ends_with(kEnd)) {
    return std::nullopt;
  }
  const std::string_view data = body.substr(kData.size(), body.size() - kData.size() - kEnd.size());
  if (!verbatim_ascii(data)) return std::nullopt;
  return std::pair{id, data};
}

std::string done_line(std::uint64_t id) { return checked_line(fmt::format("\"done\":{}}}", id)); }

enum class LineKind { kRecord, kDone, kBad };

struct ParsedLine {
  LineKind kind = LineKind::kBad;
  bool has_crc = false;  // starts with the checksum prefix (whether or not it matched)
  std::uint64_t id = 0;  // the record's id, or the id a "done" line marks
  std::string data;
};

// One complete line (without its newline). Pure.
ParsedLine parse_line(std::string_view line) {
  ParsedLine out;
  if (line.starts_with(kCrcPrefix)) {
    out.has_crc = true;
    const std::string_view rest = line.substr(kCrcPrefix.size());
    std::uint32_t crc = 0;
    const auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), crc);
    if (ec != std::errc() || end == rest.data() + rest.size() || *end != ',') return out;
    const std::string_view body = rest.substr(static_cast<std::size_t>(end - rest.data()) + 1);
    if (crc_of(body) != crc) return out;
    if (const auto plain = verbatim_record(body)) {
      out.kind = LineKind::kRecord;
      out.id = plain->first;
      out.data = std::string(plain->second);
      return out;
    }
  }
  try {
    const auto j = nlohmann::json::parse(line);
    if (!j.is_object()) return out;
    if (j.contains("done") && j.at("done").is_number_unsigned()) {
      out.kind = LineKind::kDone;
      out.id = j.at("done").get<std::uint64_t>();
    } else if (j.contains("id") && j.at("id").is_number_unsigned() && j.contains("data") && j.at("data").is_string()) {
      out.kind = LineKind::kRecord;
      out.id = j.at("id").get<std::uint64_t>();
      out.data = j.at("data").get<std::string>();
    }
  } catch (const nlohmann::json::exception&) {
  }
  return out;
}

}  // namespace

std::string DurableQueue::record_line(std::uint64_t id, std::string_view data) {
  // Built in one buffer, the checksum chained over the pieces: records can be a megabyte.
  const std::string head = fmt::format("\"id\":{},\"data\":", id);
  std::string escaped;
  std::string_view quote = "\"";
  std::string_view value = data;
  if (!verbatim_ascii(data)) {
    escaped = nlohmann::json(std::string(data)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    quote = "";
    value = escaped;
  }
  const std::string_view pieces[] = {head, quote, value, quote, "}"};
  std::uint32_t crc = 0;
  std::size_t size = 0;
  for (const auto piece : pieces) {
    crc = static_cast<std::uint32_t>(crc32_z(crc, reinterpret_cast<const Bytef*>(piece.data()), piece.size()));
    size += piece.size();
  }
  const std::string digits = std::to_string(crc);
  std::string line;
  line.reserve(kCrcPrefix.size() + digits.size() + 1 + size + 1);
  line.append(kCrcPrefix).append(digits).append(1, ',');
  for (const auto piece : pieces) line.append(piece);
  line.append(1, '\n');
  return line;
}

DurableQueue::~DurableQueue() {
  if (fd_ >= 0) ::close(fd_);
}

common::Result<std::unique_ptr<DurableQueue>> DurableQueue::open(std::string path) {
  std::unique_ptr<DurableQueue> q(new DurableQueue(std::move(path)));
  if (auto st = q->load(); !st.ok()) return std::move(st).error();
  return q;
}

common::Status DurableQueue::open_for_append(int extra_flags) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC | extra_flags, 0640);
  if (fd_ < 0) return sys_error(errno, "open", path_);
  struct stat st {};
  if (::fstat(fd_, &st) != 0) return sys_error(errno, "stat", path_);
  size_ = static_cast<std::uint64_t>(st.st_size);
  tail_dirty_ = false;
  return {};
}

common::Status DurableQueue::load() {
  std::string text;
  {
    const int rfd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (rfd < 0 && errno != ENOENT) return sys_error(errno, "open", path_);
    if (rfd >= 0) {
      struct stat st {};
      if (::fstat(rfd, &st) == 0 && st.st_size > 0) text.reserve(static_cast<std::size_t>(st.st_size));
      char buf[65536];
      for (;;) {
        const ssize_t n = ::read(rfd, buf, sizeof buf);
        if (n < 0) {
          if (errno == EINTR) continue;
          const int err = errno;
          ::close(rfd);
          return sys_error(err, "read", path_);
        }
        if (n == 0) break;
        text.append(buf, static_cast<std::size_t>(n));
      }
      ::close(rfd);
    }
  }

  // Classify every line first: which bad lines are the tail is known only at the end.
  struct Line {
    ParsedLine parsed;
    std::size_t begin = 0;
    std::size_t end = 0;  // offset just past the line's newline
  };
  std::vector<Line> lines;
  bool legacy_allowed = true;  // lines without a checksum are accepted only before the first checked one
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto nl = text.find('\n', pos);
    const bool complete = nl != std::string::npos;
    if (!complete) nl = text.size();
    const std::string_view line(text.data() + pos, nl - pos);
    const std::size_t begin = pos;
    pos = complete ? nl + 1 : text.size();
    if (line.empty()) continue;
    ParsedLine p = complete ? parse_line(line) : ParsedLine{};  // a line without newline is torn
    if (!complete) p.has_crc = line.starts_with(kCrcPrefix);
    if (p.kind != LineKind::kBad && !p.has_crc && !legacy_allowed) p.kind = LineKind::kBad;
    if (p.has_crc) legacy_allowed = false;
    lines.push_back(Line{std::move(p), begin, pos});
  }
  std::size_t good_end = 0;  // offset just past the last good line
  std::size_t good_count = 0;
  for (const auto& l : lines) {
    if (l.parsed.kind == LineKind::kBad) continue;
    good_end = l.end;
    ++good_count;
  }

  bool rewrite = false;
  std::size_t done_total = 0;
  std::size_t done_kept = 0;  // "done" lines that removed nothing (the highest-id mark a rewrite keeps)
  std::size_t good_seen = 0;
  for (auto& l : lines) {
    ParsedLine& p = l.parsed;
    if (p.kind == LineKind::kBad) {
      ++(good_seen == good_count ? corrupt_tail_lines_ : corrupt_middle_lines_);
      rewrite = true;
      continue;
    }
    ++good_seen;
    if (!p.has_crc) {
      ++legacy_lines_;
      rewrite = true;  // rewritten with checksums
    }
    next_id_ = std::max(next_id_, p.id + 1);
    if (p.kind == LineKind::kDone) {
      ++done_total;
      const auto id = p.id;
      if (std::erase_if(entries_, [id](const Entry& e) { return e.id == id; }) > 0) {
        spans_.erase(id);
        rewrite = true;
      } else {
        ++done_kept;
      }
      continue;
    }
    spans_[p.id] = Span{l.begin, l.end - l.begin};
    entries_.push_back(Entry{p.id, std::move(p.data)});
  }
  // The ids of the skipped lines cannot be read; step past as many as there were lines.
  next_id_ += corrupt_lines();

  if (corrupt_lines() > 0) {
    spdlog::warn("{}: cut {} torn or corrupt line(s) at the end, skipped {} corrupt line(s) before them; {} record(s) "
                 "kept, {} line(s) without a checksum (older format)",
                 path_, corrupt_tail_lines_, corrupt_middle_lines_, entries_.size(), legacy_lines_);
  } else if (legacy_lines_ > 0) {
    spdlog::info("{}: {} line(s) without a checksum (older format) read; rewriting with checksums", path_,
                 legacy_lines_);
  }

  if (!rewrite) {
    TW_TRY(open_for_append(O_CREAT));
    done_lines_ = done_kept;
    return {};
  }
  // Keep the old file open: if the rewrite fails before its rename (a full disk), the bad tail is
  // cut from it in place, which needs no space.
  TW_TRY(open_for_append(0));
  auto st = compact();
  if (st.ok()) return {};
  struct stat held {};
  struct stat now {};
  if (fd_ < 0 || ::fstat(fd_, &held) != 0 || ::stat(path_.c_str(), &now) != 0 || held.st_ino != now.st_ino ||
      held.st_dev != now.st_dev) {
    return st;  // the rewrite replaced the file (or it is gone): nothing to cut by offset
  }
  if (::ftruncate(fd_, static_cast<off_t>(good_end)) != 0 || ::fdatasync(fd_) != 0) {
    const int err = errno;
    return st.error().wrap(fmt::format("{}: could not rewrite it, nor cut its end in place: {}", path_,
                                       std::strerror(err)));
  }
  size_ = good_end;
  done_lines_ = done_total;
  spdlog::warn("{}: could not rewrite it ({}); cut {} byte(s) at the end in place instead", path_,
               st.error().to_string(), text.size() - good_end);
  return {};
}

common::Status DurableQueue::append_line(const std::string& line) {
  if (fd_ < 0) return common::Error(common::ErrorCode::kIo, fmt::format("{} is not open", path_));
  if (tail_dirty_) {
    if (::ftruncate(fd_, static_cast<off_t>(size_)) != 0) return sys_error(errno, "truncate", path_);
    tail_dirty_ = false;
  }
  auto st = write_all(fd_, line, path_);
  if (st.ok() && ::fdatasync(fd_) != 0) st = sys_error(errno, "fdatasync", path_);
  if (!st.ok()) {
    // Drop what part of the line got in, so the file still ends on a complete line.
    if (::ftruncate(fd_, static_cast<off_t>(size_)) != 0) tail_dirty_ = true;
    return st;
  }
  size_ += line.size();
  return {};
}

common::Result<std::uint64_t> DurableQueue::append(std::string_view data) {
  Entry e{next_id_, std::string(data)};
  const std::string line = record_line(e.id, e.data);
  const std::uint64_t at = size_;
  TW_TRY(append_line(line));
  spans_[e.id] = Span{at, line.size()};
  ++next_id_;
  entries_.push_back(std::move(e));
  return entries_.back().id;
}

const DurableQueue::Entry* DurableQueue::find(std::uint64_t id) const {
  for (const auto& e : entries_) {
    if (e.id == id) return &e;
  }
  return nullptr;
}

common::Status DurableQueue::remove(std::uint64_t id) {
  const auto it = std::find_if(entries_.begin(), entries_.end(), [id](const Entry& e) { return e.id == id; });
  if (it == entries_.end()) {
    return common::Error(common::ErrorCode::kNotFound, fmt::format("{}: no queued record {}", path_, id));
  }
  if (auto st = append_line(done_line(id)); !st.ok()) {
    // No room for one more line: mark the record where it is instead (same length, no new space).
    if (auto in_place = mark_in_place(id); !in_place.ok()) {
      return st.error().wrap(fmt::format("{}: marking record {} delivered in place failed too: {}", path_, id,
                                         in_place.error().to_string()));
    }
    spdlog::warn("{}: could not append the delivery mark of record {} ({}); marked it delivered in place", path_, id,
                 st.error().to_string());
  }
  entries_.erase(it);
  spans_.erase(id);
  ++done_lines_;
  if (entries_.empty() || done_lines_ >= entries_.size() + kCompactAfterDoneLines) {
    // The mark is durable already; a rewrite that fails (a full disk) only leaves the file longer.
    if (auto st = compact(); !st.ok()) {
      spdlog::warn("{}: compaction failed ({}); the file is rewritten later", path_, st.error().to_string());
    }
  }
  return {};
}

std::string DurableQueue::done_line_of_length(std::uint64_t id, std::size_t length) {
  // {"crc":C,"done":N,"p":"<salt>"}\n. The checksum's digit count is part of the length, so the salt
  // (same length, other letters) is varied until the checksum has the digits the length was cut for.
  const std::string head = fmt::format("\"done\":{},\"p\":\"", id);
  for (std::size_t digits = 10; digits >= 1; --digits) {
    const std::size_t fixed = kCrcPrefix.size() + digits + 1 + head.size() + 2 + 1;  // `"}` and newline
    if (fixed > length) continue;
    std::string body = head;
    body.append(length - fixed, 'x').append("\"}");
    for (unsigned variant = 0; variant < 256; ++variant) {
      // The variant in base 26 at the start of the salt (when there is room).
      unsigned v = variant;
      for (std::size_t i = head.size(); i < head.size() + (length - fixed) && i < head.size() + 2; ++i, v /= 26) {
        body[i] = static_cast<char>('a' + v % 26);
      }
      std::string line = checked_line(body);
      if (line.size() == length) return line;
      if (length - fixed < 2 && variant >= 25 * (length - fixed)) break;  // no more distinct salts
    }
  }
  return {};
}

common::Status DurableQueue::mark_in_place(std::uint64_t id) {
  const auto span = spans_.find(id);
  if (span == spans_.end()) return common::Error(common::ErrorCode::kInternal, "no file position for the record");
  const std::string line = done_line_of_length(id, span->second.length);
  if (line.empty()) return common::Error(common::ErrorCode::kInternal, "the record's line is too short for a mark");
  // A descriptor without O_APPEND: Linux appends every write to an O_APPEND one, pwrite included.
  const int fd = ::open(path_.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return sys_error(errno, "open", path_);
  std::string_view rest = line;
  auto offset = static_cast<off_t>(span->second.offset);
  while (!rest.empty()) {
    const ssize_t n = ::pwrite(fd, rest.data(), rest.size(), offset);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      return sys_error(err, "write", path_);
    }
    rest.remove_prefix(static_cast<std::size_t>(n));
    offset += static_cast<off_t>(n);
  }
  const bool synced = ::fdatasync(fd) == 0;
  const int err = errno;
  ::close(fd);
  if (!synced) return sys_error(err, "fdatasync", path_);
  ++marked_in_place_;
  return {};
}

common::Status DurableQueue::compact() {
  std::string text;
  std::uint64_t max_live = 0;
  std::unordered_map<std::uint64_t, Span> spans;
  for (const auto& e : entries_) {
    const std::string line = record_line(e.id, e.data);
    spans[e.id] = Span{text.size(), line.size()};
    text += line;
    max_live = std::max(max_live, e.id);
  }
  // Ids used above the live ones would be handed out again after a restart without this mark.
  if (next_id_ - 1 > max_live) text += done_line(next_id_ - 1);
  TW_TRY(common::write_file_atomically(path_, text));
  spans_ = std::move(spans);
  TW_TRY(open_for_append(0));
  done_lines_ = 0;
  ++compactions_;
  return {};
}

}  // namespace agent
