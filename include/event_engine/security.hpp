#pragma once
/// @file
/// CURVE keys and who may connect to an application's TCP endpoints
/// (docs/security.md). Without keys, an application on loopback trusts every
/// local process, as the original engine does; with a server key pair, every
/// TCP endpoint requires CURVE and accepts only the client keys listed for it.
///
///     config.security.server = event_engine::curve_keypair::load("keys/engine.key_secret");
///     config.security.subscribers = {event_engine::curve_key::from_file("keys/monitor.key")};

#include "event_engine/errors.hpp"

#include <zmq.h>

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace event_engine {

/// One CURVE key (public or secret) in ZeroMQ's Z85 text form: 40 characters.
class curve_key {
public:
    /// The key from its 40-character Z85 text (never a file).
    /// @throws configuration_error if @p text is not one.
    static curve_key from_z85(std::string_view text)
    {
        if (!is_z85_key(text)) {
            throw configuration_error{"event_engine: a CURVE key is 40 characters of Z85 text; got " +
                                      std::to_string(text.size()) +
                                      " characters that are not one (for a certificate file use "
                                      "curve_key::from_file)"};
        }
        return curve_key{std::string{text}};
    }

    /// The public key of the ZeroMQ certificate file at @p path (`NAME.key` or
    /// `NAME.key_secret`, as pyzmq's `zmq.auth.create_certificates` and
    /// `python3 -m pyevents keygen` write them). The path is always a path, whatever
    /// its characters.
    /// @throws configuration_error if it cannot be read or holds no public key.
    static curve_key from_file(const std::filesystem::path& path)
    {
        return curve_key{read_certificate_field(path.string(), "public-key")};
    }

    /// A key written as text in a setting (an environment variable, a command-line flag):
    /// `z85:<40 Z85 characters>` or `file:<path of a certificate file>`. The prefixes always
    /// win: a key whose own text starts with `z85:` or `file:` is written `z85:z85:...` or
    /// `z85:file:...`. Without a prefix, nothing is guessed: a value that is not 40 Z85
    /// characters is a file's path; one that is 40 Z85 characters is the key unless it
    /// could be a path, and then it is refused, whether or not such a file exists (it may
    /// be missing, mistyped or not mounted). It could be a path if it contains '/', starts
    /// with '.' or '~', ends with ".key" or ".key_secret", or names something that exists
    /// or whose existence cannot be checked. About a third of keys contain '/': write those
    /// with the `z85:` prefix.
    /// @throws configuration_error naming both spellings when the value fits neither, or could be both.
    ///         The message shows the value only if it cannot be a key (or a mistyped one).
    static curve_key from_setting(std::string_view text)
    {
        if (text.starts_with("z85:")) return from_z85(text.substr(4));
        if (text.starts_with("file:")) return from_file(std::filesystem::path{std::string{text.substr(5)}});
        const std::filesystem::path path{std::string{text}};
        if (is_z85_key(text)) {
            const bool looks_like_path = text.find('/') != std::string_view::npos || text.starts_with('.') ||
                                         text.starts_with('~') || text.ends_with(".key") ||
                                         text.ends_with(".key_secret");
            std::error_code check;
            // exists() is false on an error too (permission denied, I/O error): that could be a file.
            const bool could_be_file = looks_like_path || std::filesystem::exists(path, check) || check;
            if (!could_be_file) return curve_key{std::string{text}};
            throw configuration_error{"event_engine: " + describe_setting(text) +
                                      " is 40 Z85 characters, so it could be a CURVE key, and could be a "
                                      "certificate file's path too (" +
                                      (looks_like_path ? std::string{"it looks like one"}
                                       : check         ? "its existence cannot be checked: " + check.message()
                                                       : std::string{"such a file exists"}) +
                                      "); nothing is guessed: write file:<path> for a certificate file or "
                                      "z85:<key> for the key itself"};
        }
        if (text.empty()) {
            throw configuration_error{"event_engine: the setting is empty; write z85:<40 Z85 characters> for a key "
                                      "or file:<path> for a certificate file"};
        }
        std::error_code check;
        if (!std::filesystem::exists(path, check) && !check) {
            throw configuration_error{"event_engine: " + describe_setting(text) +
                                      " is neither a 40-character Z85 CURVE key nor an existing certificate "
                                      "file; write z85:<40 Z85 characters> for a key or file:<path> for a "
                                      "certificate file"};
        }
        return from_file(path);
    }

    /// Deprecated: it guessed whether its argument was a key or a path (a 40-character
    /// path of Z85 characters was taken as a key). It now refuses what could be both.
    // clang-format off
    [[deprecated("curve_key::load guesses between a key and a file: use curve_key::from_z85 for the key's "
                 "text or curve_key::from_file for a certificate file (curve_key::from_setting for a "
                 "z85:/file: setting)")]]
    static curve_key load(std::string_view text_or_path) { return from_setting(text_or_path); }
    // clang-format on

    /// The key named by environment variable @p variable, as curve_key::from_setting reads
    /// it: `z85:<key>` or `file:<path>` (or, without a prefix, a value that can only be one).
    /// @throws configuration_error if it is unset or does not load.
    static curve_key from_env(const char* variable)
    {
        const char* value = std::getenv(variable);
        if (value == nullptr || *value == '\0') {
            throw configuration_error{std::string{"event_engine: environment variable "} + variable +
                                      " is not set; it should hold z85:<a CURVE key, 40 Z85 characters> or "
                                      "file:<the path of a certificate file>"};
        }
        try {
            return from_setting(value);
        } catch (const configuration_error& failure) {
            throw configuration_error{std::string{failure.what()} + " (from environment variable " + variable + ")"};
        }
    }

    [[nodiscard]] const std::string& z85() const noexcept { return z85_; }
    friend bool operator==(const curve_key&, const curve_key&) = default;

    /// True if @p text is 40 characters that decode as Z85 into 32 bytes.
    static bool is_z85_key(std::string_view text) noexcept
    {
        if (text.size() != 40) return false;
        const std::string copy{text};
        unsigned char bytes[32];
        return zmq_z85_decode(bytes, copy.c_str()) != nullptr;
    }

    /// @p text quoted for an error message, or only its length if it could be a key, even a
    /// mistyped one (30 to 50 characters, all of them Z85's): a secret key is never shown.
    static std::string describe_setting(std::string_view text)
    {
        static constexpr std::string_view z85_alphabet =
            "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";
        const bool could_be_key =
            text.size() >= 30 && text.size() <= 50 && text.find_first_not_of(z85_alphabet) == std::string_view::npos;
        if (could_be_key) return "the value (" + std::to_string(text.size()) + " characters, not shown)";
        return "'" + std::string{text} + "'";
    }

    /// Reads `field = "value"` from a ZeroMQ certificate file (ZPL format).
    static std::string read_certificate_field(std::string_view path, std::string_view field)
    {
        std::ifstream file{std::filesystem::path{std::string{path}}};
        if (!file) {
            throw configuration_error{"event_engine: cannot read the certificate file '" + std::string{path} +
                                      "' (for a key's 40-character Z85 text use curve_key::from_z85)"};
        }
        std::string line;
        while (std::getline(file, line)) {
            const auto start = line.find_first_not_of(" \t");
            if (start == std::string::npos || line.compare(start, field.size(), field) != 0) continue;
            const auto open = line.find('"', start + field.size());
            const auto close = open == std::string::npos ? open : line.find('"', open + 1);
            if (close == std::string::npos) break;
            const std::string value = line.substr(open + 1, close - open - 1);
            if (is_z85_key(value)) return value;
            break;
        }
        throw configuration_error{"event_engine: certificate file '" + std::string{path} + "' has no valid " +
                                  std::string{field} + " (expected a line: " + std::string{field} +
                                  " = \"<40 Z85 characters>\")"};
    }

private:
    explicit curve_key(std::string z85) : z85_{std::move(z85)} {}
    std::string z85_;
};

/// A CURVE key pair: the application's server keys, or a client's.
struct curve_keypair {
    curve_key public_key;
    curve_key secret_key;

    /// A new random key pair (libzmq's zmq_curve_keypair).
    static curve_keypair generate()
    {
        char public_text[41] = {};
        char secret_text[41] = {};
        if (zmq_curve_keypair(public_text, secret_text) != 0) {
            throw error{"event_engine: cannot generate a CURVE key pair: this libzmq has no CURVE support"};
        }
        return {curve_key::from_z85(public_text), curve_key::from_z85(secret_text)};
    }

    /// Reads a secret certificate file (`NAME.key_secret`, both keys).
    static curve_keypair load(const std::filesystem::path& secret_certificate)
    {
        const std::string path = secret_certificate.string();
        return {curve_key::from_z85(curve_key::read_certificate_field(path, "public-key")),
                curve_key::from_z85(curve_key::read_certificate_field(path, "secret-key"))};
    }

    /// Writes `<directory>/<name>.key` (public key only) and `<directory>/<name>.key_secret`
    /// (both keys), the files pyzmq and czmq read.
    void save(const std::filesystem::path& directory, std::string_view name) const
    {
        std::filesystem::create_directories(directory);
        const auto write = [&](const std::filesystem::path& path, bool with_secret) {
            std::ofstream file{path, std::ios::trunc};
            file << "#   ZeroMQ CURVE " << (with_secret ? "**secret** " : "") << "certificate (event_engine)\n"
                 << "metadata\ncurve\n    public-key = \"" << public_key.z85() << "\"\n";
            if (with_secret) file << "    secret-key = \"" << secret_key.z85() << "\"\n";
            if (!file) throw error{"event_engine: cannot write " + path.string()};
        };
        const std::string base{name};
        write(directory / (base + ".key"), false);
        write(directory / (base + ".key_secret"), true);
        std::filesystem::permissions(directory / (base + ".key_secret"),
                                     std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    }
};

/// A client allowed on the publish port, optionally limited to some events.
struct authorized_publisher {
    curve_key key;
    /// Names of the events it may publish; empty: any event of the application's list.
    std::vector<std::string> events{};
};

/// Who may connect to an application's TCP endpoints (docs/security.md).
struct security_config {
    /// The application's key pair. Set: every TCP endpoint requires CURVE.
    std::optional<curve_keypair> server{};
    /// Clients allowed on the publish port (with keys; empty: nobody).
    std::vector<authorized_publisher> publishers{};
    /// Clients allowed on the subscribe port (with keys; empty: nobody).
    std::vector<curve_key> subscribers{};
    /// Bind beyond loopback without keys, trusting every peer that can reach the ports.
    bool allow_insecure_non_loopback = false;
};

} // namespace event_engine
