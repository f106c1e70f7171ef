#pragma once
// Small helpers shared by the benchmark programs: timing, robust statistics,
// peak memory, and a minimal JSON writer (the results are read by report.py).

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <sys/resource.h>

namespace bench {

using clock = std::chrono::steady_clock;

inline std::int64_t now_ns() noexcept
{
    return std::chrono::duration_cast<std::chrono::nanoseconds>(clock::now().time_since_epoch()).count();
}

/// Keeps @p value alive for the optimizer (the Google Benchmark idiom).
template <class T>
inline void do_not_optimize(T const& value) noexcept
{
    asm volatile("" : : "r,m"(value) : "memory");
}

/// The @p q quantile (0..1) of @p values, linear interpolation between ranks.
inline double quantile(std::vector<double> values, double q)
{
    if (values.empty()) return 0.0;
    std::sort(values.begin(), values.end());
    const double rank = q * static_cast<double>(values.size() - 1);
    const auto low = static_cast<std::size_t>(rank);
    const auto high = std::min(low + 1, values.size() - 1);
    const double fraction = rank - static_cast<double>(low);
    return values[low] + (values[high] - values[low]) * fraction;
}

inline double median(std::vector<double> values) { return quantile(std::move(values), 0.5); }

/// Peak resident set size of this process in KiB (VmHWM; getrusage as a fallback).
inline long peak_rss_kib()
{
    std::ifstream status{"/proc/self/status"};
    std::string line;
    while (std::getline(status, line)) {
        if (line.rfind("VmHWM:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
    }
    rusage usage{};
    ::getrusage(RUSAGE_SELF, &usage);
    return usage.ru_maxrss;
}

/// A JSON object built field by field; values are numbers, booleans, strings or raw JSON.
class json_object {
public:
    json_object& add(std::string_view key, double value)
    {
        char text[64];
        std::snprintf(text, sizeof text, "%.6g", value);
        return raw(key, text);
    }
    json_object& add(std::string_view key, long long value) { return raw(key, std::to_string(value)); }
    json_object& add(std::string_view key, unsigned long long value) { return raw(key, std::to_string(value)); }
    json_object& add(std::string_view key, long value) { return raw(key, std::to_string(value)); }
    json_object& add(std::string_view key, unsigned long value) { return raw(key, std::to_string(value)); }
    json_object& add(std::string_view key, int value) { return raw(key, std::to_string(value)); }
    json_object& add(std::string_view key, bool value) { return raw(key, value ? "true" : "false"); }
    json_object& add(std::string_view key, std::string_view value) { return raw(key, quote(value)); }
    json_object& add(std::string_view key, const char* value) { return add(key, std::string_view{value}); }
    json_object& raw(std::string_view key, std::string_view json)
    {
        if (!body_.empty()) body_ += ", ";
        body_ += quote(key);
        body_ += ": ";
        body_ += json;
        return *this;
    }
    [[nodiscard]] std::string str() const { return "{" + body_ + "}"; }

    static std::string quote(std::string_view text)
    {
        std::string out = "\"";
        for (const char c : text) {
            if (c == '"' || c == '\\') {
                out += '\\';
                out += c;
            } else if (static_cast<unsigned char>(c) < 0x20) {
                char escaped[8];
                std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
                out += escaped;
            } else {
                out += c;
            }
        }
        return out + "\"";
    }

private:
    std::string body_;
};

inline std::string json_array(const std::vector<std::string>& items)
{
    std::string out = "[";
    for (std::size_t i = 0; i < items.size(); ++i) {
        if (i != 0) out += ",\n  ";
        out += items[i];
    }
    return out + "]";
}

/// The value after command-line option argv[i] (advancing i); exits with a message if missing.
inline std::string option_value(int argc, char** argv, int& i, std::string_view program)
{
    if (i + 1 >= argc) {
        std::cerr << program << ": " << argv[i] << " needs a value\n";
        std::exit(2);
    }
    return argv[++i];
}

inline bool write_file(const std::string& path, const std::string& text)
{
    std::ofstream out{path};
    out << text << '\n';
    return static_cast<bool>(out);
}

} // namespace bench
