// Text that came from a file, a client or a peer: UTF-8 checks, repair, and short quotes of
// it for error messages. Every function here is linear in its input and never throws.
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace dim::core {

// Whether `text` is well-formed UTF-8 (no overlong forms, surrogates or code points past
// U+10FFFF).
bool IsValidUtf8(std::string_view text);

// `text` as valid UTF-8: unchanged when it already is; otherwise each byte that is not part
// of a well-formed sequence is read as Latin-1 (0xE9 becomes "é"), which is what such bytes
// in a CSV header or a file name usually mean.
std::string ToValidUtf8(std::string_view text);

// The most bytes of a value quoted in an error message.
inline constexpr size_t kSnippetBytes = 200;

// `text` for an error message: valid UTF-8 (as ToValidUtf8), with control characters shown
// as "\n", "\t" or "\xNN", and cut on a character boundary after about `max_bytes`, ending
// "... (N bytes)" when cut, so a 20 kB value never makes a 20 kB error.
std::string Snippet(std::string_view text, size_t max_bytes = kSnippetBytes);

// An error message fit to send to a peer: valid UTF-8, at most kMaxMessageBytes (cut on a
// character boundary, ending "... (N bytes)"), control characters other than "\n" and "\t"
// escaped.
inline constexpr size_t kMaxMessageBytes = 2048;
std::string SafeMessage(std::string_view message);

// "ABC-def" -> "abc-def": ASCII letters only, other bytes as they are.
std::string AsciiLower(std::string_view s);

// Levenshtein distance: the edits (insertions, deletions, substitutions) between a and b.
size_t EditDistance(std::string_view a, std::string_view b);
// Of `candidates`, the one nearest to `word`, when at most `max_edits` away (the first of
// those equally near); "" when none is. For "did you mean ...?".
std::string Nearest(std::string_view word, const std::vector<std::string>& candidates,
                    size_t max_edits);

// "1 node", "3 nodes": a count and its noun, singular or plural (`plural` for irregular
// nouns: "entries").
std::string Counted(int64_t n, std::string_view singular, std::string_view plural = {});

// 1234567 -> "1,234,567" (and -1234 -> "-1,234"): counts in tables and messages.
std::string GroupThousands(int64_t n);

// A figure as people read it in a message or a table: "%g" (0.4, 1, 2.5e-07).
std::string ShortNumber(double x);

// json.dump() that never throws: a string holding invalid UTF-8 is written with U+FFFD in
// place of the bad bytes. `indent` as for dump (-1: compact).
std::string DumpJson(const nlohmann::json& value, int indent = -1);

// The deepest nesting of arrays and objects a JSON document from a file, a client or a peer
// may have. Deeper documents are refused before they are parsed, so no work on them grows
// with the square of their depth.
inline constexpr size_t kMaxJsonDepth = 64;

// INVALID_ARGUMENT "$: nested deeper than 64 levels (at byte N)" when the JSON text opens
// more than `max_depth` arrays or objects inside one another; OK otherwise (even for text
// that is not JSON at all: the parser reports that). One linear pass, no allocation.
Status CheckJsonDepth(std::string_view text, size_t max_depth = kMaxJsonDepth);

// A JSON document dim did not just write itself (a peer's reply, a file, a stored record):
// the parsed value, or a discarded one (is_discarded()) for text that is not JSON, nests
// deeper than kMaxJsonDepth, or cannot be held. Never throws. Configs, which need error
// messages with paths, use ParseJsonText (core/job/config_reader.h).
nlohmann::json ParseUntrustedJson(std::string_view text);

}  // namespace dim::core
