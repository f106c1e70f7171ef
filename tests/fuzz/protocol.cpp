// Fuzz target: the external-plugin command parser, protocol::parse (docs/protocol.md).
// Beyond "does not crash", every result is checked against the documented protocol:
//  * a publish result exactly for messages that do not start with "plugin_command:";
//  * waits within 0..3600000 ms, batch sizes within 1..100000, acks any 64-bit number;
//  * refused requests (malformed, unknown command) carry a sentence, others none;
//  * each accepted command is what the message says, read here independently of the
//    parser (word, then spaces and decimal digits only, trailing whitespace ignored),
//    and a message of that shape with numbers in range is never refused (spellings
//    the parser tolerates, "next_msg_wait5", "-0", "15-0", may be taken or refused);
//  * a canonical rendering of an accepted command parses to the same request, and so
//    does any message with trailing spaces and newlines appended;
//  * the result does not depend on bytes after the message (AddressSanitizer sees the
//    message at the end of its heap block; a prefix view is compared with a copy).
// Kinds this target does not know yet (commands added later: publish_batch) get the
// generic checks; fetch's optional fourth number (the last event the client holds) is known.
// A command word must be followed by a space or the end for fetch and ack; the older
// commands have never required one ("next_msg_wait5").

#include "fuzz_support.hpp"

#include <event_engine/detail/wire/external_protocol.hpp>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

namespace protocol = event_engine::detail::protocol;
using protocol::kind;

constexpr std::string_view prefix = "plugin_command:"; // docs/protocol.md, not the header's constant
constexpr std::uint64_t longest_wait_ms = 3'600'000;
constexpr std::uint64_t largest_batch = 100'000;

std::string_view without_trailing_whitespace(std::string_view text)
{
    while (!text.empty()) {
        const char last = text.back();
        if (last != ' ' && last != '\n' && last != '\r' && last != '\t') break;
        text.remove_suffix(1);
    }
    return text;
}

// The numbers after a command word: spaces, then groups of decimal digits separated by
// spaces. Anything else, or a number past 64 bits: nullopt. Spellings that docs/protocol.md does
// not show but the parser accepts today are flagged rather than refused: no space
// between the word and the first number ("next_msg_wait5"), a minus sign on zero ("-0"),
// and so no space before it ("next_msgs 15-0"); the parser may take or refuse them,
// but if it takes them, with these numbers.
struct numbers {
    std::vector<std::uint64_t> values;
    bool tolerated_only = false;
};

std::optional<numbers> digit_groups(std::string_view rest)
{
    numbers found;
    if (!rest.empty() && rest.front() != ' ') found.tolerated_only = true;
    std::size_t at = 0;
    while (at < rest.size()) {
        while (at < rest.size() && rest[at] == ' ') ++at;
        if (at == rest.size()) break;
        const bool minus = rest[at] == '-';
        if (minus) ++at;
        if (at == rest.size() || rest[at] < '0' || rest[at] > '9') return std::nullopt;
        std::uint64_t value = 0;
        while (at < rest.size() && rest[at] >= '0' && rest[at] <= '9') {
            const auto digit = static_cast<std::uint64_t>(rest[at] - '0');
            if (value > (std::numeric_limits<std::uint64_t>::max() - digit) / 10) return std::nullopt;
            value = value * 10 + digit;
            ++at;
        }
        if (at < rest.size() && rest[at] == '-') found.tolerated_only = true; // "15-0"
        else if (at < rest.size() && rest[at] != ' ') return std::nullopt;
        if (minus && value != 0) return std::nullopt;
        if (minus) found.tolerated_only = true;
        found.values.push_back(value);
    }
    if (found.values.empty()) return std::nullopt;
    return found;
}

std::string word(std::string_view command) { return std::string{prefix} + " " + std::string{command}; }

// What the documented grammar makes of @p message, for the commands this target knows.
struct expectation {
    kind what;
    std::uint64_t wait = 0;
    std::uint64_t most = 1;
    std::uint64_t ack = 0;
    bool tolerated_only = false; // may be refused instead
    std::uint64_t have = 0;      // fetch's optional fourth number
};

std::optional<expectation> documented(std::string_view message)
{
    const std::string_view command = without_trailing_whitespace(message);
    if (command == word("next_msg")) return expectation{kind::next};
    if (command == word("quit")) return expectation{kind::quit};
    if (command == word("ping")) return expectation{kind::ping};
    if (command == word("manifest")) return expectation{kind::manifest};
    const std::string wait_word = word("next_msg_wait");
    const std::string batch_word = word("next_msgs");
    if (command.starts_with(wait_word)) {
        const auto numbers = digit_groups(command.substr(wait_word.size()));
        if (!numbers || numbers->values.size() != 1) return std::nullopt;
        const std::uint64_t wait = numbers->values[0];
        if (wait > longest_wait_ms) return std::nullopt;
        return expectation{kind::next_wait, wait, 1, 0, numbers->tolerated_only};
    }
    if (command.starts_with(batch_word)) {
        const auto numbers = digit_groups(command.substr(batch_word.size()));
        if (!numbers || numbers->values.size() > 2) return std::nullopt;
        const std::uint64_t most = numbers->values[0];
        const std::uint64_t wait = numbers->values.size() == 2 ? numbers->values[1] : 0;
        if (most == 0 || most > largest_batch || wait > longest_wait_ms) return std::nullopt;
        return expectation{kind::next_batch, wait, most, 0, numbers->tolerated_only};
    }
    const std::string fetch_word = word("fetch");
    const std::string ack_word = word("ack");
    if (command.starts_with(fetch_word + " ")) {
        const auto numbers = digit_groups(command.substr(fetch_word.size()));
        if (!numbers || numbers->values.size() < 3 || numbers->values.size() > 4) return std::nullopt;
        const std::uint64_t most = numbers->values[0];
        const std::uint64_t wait = numbers->values[1];
        if (most == 0 || most > largest_batch || wait > longest_wait_ms) return std::nullopt;
        const std::uint64_t have = numbers->values.size() == 4 ? numbers->values[3] : 0;
        return expectation{kind::fetch, wait, most, numbers->values[2], numbers->tolerated_only, have};
    }
    if (command.starts_with(ack_word + " ")) {
        const auto numbers = digit_groups(command.substr(ack_word.size()));
        if (!numbers || numbers->values.size() != 1) return std::nullopt;
        return expectation{kind::ack, 0, 1, numbers->values[0], numbers->tolerated_only};
    }
    return std::nullopt;
}

bool same(const protocol::request& a, const protocol::request& b)
{
    // Not the session: a request's views point into its message, which parse_copy's copy no longer holds.
    return a.what == b.what && a.wait == b.wait && a.most == b.most && a.ack == b.ack && a.have == b.have &&
           a.problem == b.problem;
}

// The one spelling docs/protocol.md gives for an accepted request, if this target knows it.
std::optional<std::string> canonical(const protocol::request& request)
{
    switch (request.what) {
    case kind::next: return word("next_msg");
    case kind::quit: return word("quit");
    case kind::ping: return word("ping");
    case kind::manifest: return word("manifest");
    case kind::next_wait: return word("next_msg_wait") + " " + std::to_string(request.wait.count());
    case kind::next_batch:
        return word("next_msgs") + " " + std::to_string(request.most) + " " + std::to_string(request.wait.count());
    case kind::fetch:
        return word("fetch") + " " + std::to_string(request.most) + " " + std::to_string(request.wait.count()) + " " +
               std::to_string(request.ack) + (request.have != 0 ? " " + std::to_string(request.have) : std::string{});
    case kind::ack: return word("ack") + " " + std::to_string(request.ack);
    default: return std::nullopt;
    }
}

protocol::request parse_copy(std::string_view text, std::size_t offset = 0)
{
    const fuzz_support::exact_copy copy{std::as_bytes(std::span{text.data(), text.size()}), offset};
    return protocol::parse(copy.text());
}

void check_result(std::string_view message, const protocol::request& request)
{
    const bool command = message.starts_with(prefix);
    FUZZ_CHECK((request.what == kind::publish) == !command);

    FUZZ_CHECK(request.wait.count() >= 0 && static_cast<std::uint64_t>(request.wait.count()) <= longest_wait_ms);

    const bool refused = request.what == kind::malformed || request.what == kind::unknown_command;
    if (refused) {
        FUZZ_CHECK(!request.problem.empty());
        // A sentence for a log line and a reply: every byte readable (ASan checks that it
        // does not dangle) and no control characters.
        std::size_t controls = 0;
        for (const char c : request.problem) {
            const auto byte = static_cast<unsigned char>(c);
            controls += (byte < 0x20 || byte == 0x7f) ? 1 : 0;
        }
        FUZZ_CHECK(controls == 0);
    }

    const std::optional<expectation> expected = documented(message);
    switch (request.what) {
    case kind::publish:
    case kind::malformed:
    case kind::unknown_command:
        if (request.what == kind::publish) FUZZ_CHECK(request.problem.empty());
        FUZZ_CHECK(request.most <= largest_batch);
        // A message of the documented shape, numbers in range, is never refused.
        FUZZ_CHECK(!expected || expected->tolerated_only);
        break;
    case kind::next:
    case kind::quit:
    case kind::ping:
    case kind::manifest:
    case kind::next_wait:
    case kind::next_batch:
    case kind::fetch:
    case kind::ack: {
        FUZZ_CHECK(request.problem.empty());
        FUZZ_CHECK(request.most <= largest_batch);
        FUZZ_CHECK(expected.has_value());
        FUZZ_CHECK(expected->what == request.what);
        FUZZ_CHECK(static_cast<std::uint64_t>(request.wait.count()) == expected->wait);
        if (request.what == kind::next_batch || request.what == kind::fetch) {
            FUZZ_CHECK(request.most >= 1 && request.most == expected->most);
        }
        if (request.what == kind::fetch || request.what == kind::ack) FUZZ_CHECK(request.ack == expected->ack);
        if (request.what == kind::fetch) FUZZ_CHECK(request.have == expected->have);
        const std::optional<std::string> spelled = canonical(request);
        FUZZ_CHECK(spelled.has_value());
        FUZZ_CHECK(same(parse_copy(*spelled), request));
        FUZZ_CHECK(same(parse_copy(*spelled + " \r\n"), request));
        if (request.what == kind::next_batch && request.wait.count() == 0) {
            FUZZ_CHECK(same(parse_copy(word("next_msgs") + " " + std::to_string(request.most)), request));
        }
        break;
    }
    default:
        // A command added after this target was written: the generic checks above only
        // (its numbers may live in fields this target does not know).
        FUZZ_CHECK(!expected || expected->tolerated_only);
        break;
    }
}

void check(std::string_view message)
{
    const protocol::request request = protocol::parse(message);
    check_result(message, request);

    // Trailing spaces and newlines are ignored (docs/protocol.md), for any message.
    FUZZ_CHECK(same(parse_copy(std::string{message} + " \t\r\n  "), request));
    // The same bytes elsewhere in memory, misaligned: the same request.
    FUZZ_CHECK(same(parse_copy(message, 1 + message.size() % 7), request));
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    // libFuzzer's buffer holds exactly the input: ASan reports any read past it.
    const std::string_view message{reinterpret_cast<const char*>(data), size};
    check(message);

    // A prefix of the message, with the rest of the input right after it in memory,
    // parses as the same prefix alone in a block of its own: parse reads nothing past
    // the end of the view it is given.
    const std::size_t cut = size / 2;
    const protocol::request in_place = protocol::parse(message.substr(0, cut));
    FUZZ_CHECK(same(in_place, parse_copy(message.substr(0, cut))));

    // Random bytes rarely begin with the prefix; try them as a command too.
    if (!message.starts_with(prefix)) {
        const std::string as_command = std::string{prefix} + " " + std::string{message};
        const fuzz_support::exact_copy copy{std::as_bytes(std::span{as_command.data(), as_command.size()}), 0};
        check(copy.text());
    }
    return 0;
}
