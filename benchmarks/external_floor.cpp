// Benchmark (c), the floors: what raw ZeroMQ does between a C++ process and a Python one
// on this machine, with no event_engine in between. external_bench.py runs each mode beside
// the matching pyzmq client and compares the engine's rows with the better floor.
//
//   ee_bench_external_floor rep    <port> <count> <bytes>  REP: answers each request with one
//                                                          frame of <bytes> (a prebuilt buffer,
//                                                          sent without a copy)
//   ee_bench_external_floor push   <port> <count> <bytes>  PUSH: streams <count> such frames
//   ee_bench_external_floor rep-in <port> <count> <bytes>  REP: receives <count> frames of
//                                                          <bytes>, answers each with "ok"
//   ee_bench_external_floor pull   <port> <count> <bytes>  PULL: receives <count> frames
//
// Every mode binds tcp://127.0.0.1:<port>. The receiving modes (rep-in, pull) time the
// frames from the first to the last and print
//     floor <mode> frames <n> bytes <total> first_to_last_s <seconds>
// (the sending modes print the same line with the time from the first request or send to
// the last); a frame of the wrong size makes the program fail (exit 1).

#include <zmq.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <vector>

namespace {

using clock_type = std::chrono::steady_clock;

int usage(const char* program)
{
    std::fprintf(stderr, "usage: %s rep|push|rep-in|pull <port> <count> <bytes>\n", program);
    return 2;
}

void report(std::string_view mode, std::uint64_t frames, std::uint64_t bytes, clock_type::time_point first,
            clock_type::time_point last)
{
    std::printf("floor %.*s frames %llu bytes %llu first_to_last_s %.9f\n", static_cast<int>(mode.size()), mode.data(),
                static_cast<unsigned long long>(frames), static_cast<unsigned long long>(bytes),
                std::chrono::duration<double>(last - first).count());
    std::fflush(stdout);
}

} // namespace

int main(int argc, char** argv)
{
    if (argc != 5) return usage(argv[0]);
    const std::string_view mode{argv[1]};
    const std::string endpoint = std::string{"tcp://127.0.0.1:"} + argv[2];
    const std::uint64_t count = std::strtoull(argv[3], nullptr, 10);
    const std::size_t size = static_cast<std::size_t>(std::strtoull(argv[4], nullptr, 10));
    if (count == 0 || size == 0) return usage(argv[0]);

    std::vector<char> buffer(size, 'x'); // outlives the context, which may still be sending from it
    zmq::context_t context;
    // A message over the prebuilt buffer: ZeroMQ sends from it and frees nothing.
    const auto frame = [&] { return zmq::message_t{buffer.data(), buffer.size(), nullptr, nullptr}; };
    try {
        if (mode == "rep" || mode == "rep-in") {
            zmq::socket_t socket{context, zmq::socket_type::rep};
            socket.set(zmq::sockopt::linger, 2000);
            socket.bind(endpoint);
            clock_type::time_point first{};
            std::uint64_t bytes = 0;
            for (std::uint64_t i = 0; i < count; ++i) {
                zmq::message_t request;
                if (!socket.recv(request)) return 1;
                if (i == 0) first = clock_type::now();
                if (mode == "rep-in") {
                    if (request.size() != size) {
                        std::fprintf(stderr, "floor rep-in: a frame of %zu bytes, not %zu\n", request.size(), size);
                        return 1;
                    }
                    bytes += request.size();
                    socket.send(zmq::buffer(std::string_view{"ok"}));
                } else {
                    bytes += size;
                    socket.send(frame(), zmq::send_flags::none);
                }
            }
            report(mode, count, bytes, first, clock_type::now());
        } else if (mode == "push") {
            zmq::socket_t socket{context, zmq::socket_type::push};
            socket.set(zmq::sockopt::linger, -1); // everything is delivered before the context ends
            socket.bind(endpoint);
            const auto first = clock_type::now();
            for (std::uint64_t i = 0; i < count; ++i) socket.send(frame(), zmq::send_flags::none);
            report(mode, count, count * size, first, clock_type::now());
        } else if (mode == "pull") {
            zmq::socket_t socket{context, zmq::socket_type::pull};
            socket.bind(endpoint);
            clock_type::time_point first{};
            std::uint64_t bytes = 0;
            for (std::uint64_t i = 0; i < count; ++i) {
                zmq::message_t message;
                if (!socket.recv(message)) return 1;
                if (i == 0) first = clock_type::now();
                if (message.size() != size) {
                    std::fprintf(stderr, "floor pull: a frame of %zu bytes, not %zu\n", message.size(), size);
                    return 1;
                }
                bytes += message.size();
            }
            report(mode, count, bytes, first, clock_type::now());
        } else {
            return usage(argv[0]);
        }
    } catch (const zmq::error_t& failure) {
        std::fprintf(stderr, "floor %s: %s\n", argv[1], failure.what());
        return 1;
    }
    return 0;
}
