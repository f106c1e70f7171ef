#pragma once
// Clients of an application's TCP endpoints for the C++ tests: a REQ client of an
// external plugin's port (optionally with CURVE keys) and a thread that keeps its
// failure for the test's thread (Catch's assertions are not thread-safe).

#include <event_engine/app_config.hpp>

#include <zmq.hpp>

#include <chrono>
#include <cstdint>
#include <exception>
#include <future>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace test_clients {

/// CURVE settings of a client: the server's public key and the client's key pair (Z85).
struct curve_client {
    std::string server_public;
    std::string client_public;
    std::string client_secret;
};

inline void make_curve_client(zmq::socket_t& socket, const curve_client& keys)
{
    socket.set(zmq::sockopt::curve_serverkey, keys.server_public);
    socket.set(zmq::sockopt::curve_publickey, keys.client_public);
    socket.set(zmq::sockopt::curve_secretkey, keys.client_secret);
}

// A REQ client of an external plugin's port, on its own thread; failures are kept
// for the test's thread (Catch's assertions are not thread-safe).
/// Thrown when a request gets no reply in time (e.g. refused by CURVE).
struct no_reply : std::runtime_error {
    using std::runtime_error::runtime_error;
};

class req_client {
public:
    explicit req_client(std::uint16_t port, const std::optional<curve_client>& keys = std::nullopt,
                        std::chrono::milliseconds timeout = std::chrono::milliseconds{20'000},
                        const std::string& host = "127.0.0.1")
        : socket_{context_, zmq::socket_type::req}
    {
        socket_.set(zmq::sockopt::linger, 1000);
        socket_.set(zmq::sockopt::rcvtimeo, static_cast<int>(timeout.count())); // a hung engine fails the test
        if (keys) make_curve_client(socket_, *keys);
        if (host.find(':') != std::string::npos) socket_.set(zmq::sockopt::ipv6, 1);
        socket_.connect("tcp://" + (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" +
                        std::to_string(port));
    }

    std::vector<std::string> request(std::string_view body)
    {
        socket_.send(zmq::buffer(body));
        std::vector<std::string> reply;
        for (;;) {
            zmq::message_t part;
            if (!socket_.recv(part)) throw no_reply{"no reply to '" + std::string{body} + "' in time"};
            reply.push_back(part.to_string());
            if (!part.more()) return reply;
        }
    }

    std::string one(std::string_view body)
    {
        auto reply = request(body);
        if (reply.size() != 1)
            throw std::runtime_error{"expected one frame in the reply to '" + std::string{body} + "'"};
        return reply.front();
    }

    void close() { socket_.close(); }

private:
    zmq::context_t context_;
    zmq::socket_t socket_;
};

// The port an external plugin bound when given port 0, learned through app::on_bound,
// for client threads started before run(): reading it waits until it is bound.
class bound_port {
public:
    template <class App>
    bound_port(App& application, std::string plugin)
    {
        future_ = promise_.get_future().share(); // in the body: clang 14 warns in the initializer list
        application.on_bound(
            [this, plugin](const event_engine::bound_endpoints& bound) { promise_.set_value(bound.port_of(plugin)); });
    }
    bound_port(const bound_port&) = delete;
    bound_port& operator=(const bound_port&) = delete;

    [[nodiscard]] std::uint16_t get() const
    {
        if (future_.wait_for(std::chrono::seconds{60}) != std::future_status::ready) {
            throw std::runtime_error{"the application did not bind its endpoints within 60 s"};
        }
        return future_.get();
    }
    operator std::uint16_t() const { return get(); } // NOLINT: reads as the port it stands for

private:
    std::promise<std::uint16_t> promise_;
    std::shared_future<std::uint16_t> future_;
};

// Runs @p body on a thread; rethrows its failure on join().
class client_thread {
public:
    template <class Body>
    explicit client_thread(Body body)
        : thread_{[this, body]() mutable {
              try {
                  body();
              } catch (...) {
                  failure_ = std::current_exception();
              }
          }}
    {}
    void join()
    {
        thread_.join();
        if (failure_) std::rethrow_exception(failure_);
    }
    ~client_thread()
    {
        if (thread_.joinable()) thread_.join();
    }
    client_thread(const client_thread&) = delete;
    client_thread& operator=(const client_thread&) = delete;

private:
    std::exception_ptr failure_;
    std::thread thread_;
};

} // namespace test_clients
