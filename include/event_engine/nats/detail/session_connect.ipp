#pragma once
// session's start-up: the options checked, the connection and its callbacks, core NATS's
// subscription, the plan it logs and shows in the manifest.
// Included by session.hpp in the header-only mode, compiled once into
// event_engine::nats_compiled otherwise (src/event_engine_nats.cpp; nats/detail/config.hpp).

#include "event_engine/nats/detail/session.hpp"

#include <fmt/core.h>

#include <nats/nats.h>

#include <algorithm>
#include <cstdio>
#include <exception>
#include <mutex>
#include <random>
#include <string>
#include <string_view>
#include <unistd.h>
#include <vector>

namespace event_engine::nats::detail {

EVENT_ENGINE_NATS_DECL void session::start()
{
    std::unique_lock lock{start_mutex_};
    if (started_) return;
    if (start_failure_) throw error{*start_failure_};
    try {
        connect();
        started_ = true;
    } catch (const std::exception& failure) {
        start_failure_ = failure.what();
        close_connection();
        throw;
    }
}

EVENT_ENGINE_NATS_DECL std::vector<std::pair<std::string, std::string>> session::plan(bool outbound) const
{
    const bool jetstream = options_.mode == delivery::jetstream;
    const auto subjects = [this](const std::vector<event_info>& events) {
        std::vector<std::string> list;
        for (const auto& event : events) list.push_back(options_.subject_prefix + "." + std::string{event.name});
        return joined(list);
    };
    std::vector<std::pair<std::string, std::string>> pairs;
    pairs.emplace_back("servers", server_list());
    pairs.emplace_back("mode", jetstream ? "jetstream" : "core");
    // The manifest may be asked for from another thread while the bridge's own threads start.
    pairs.emplace_back("instance", instance());
    std::string stream_name = options_.stream;
    if (stream_name.empty()) {
        stream_name = options_.subject_prefix;
        std::replace(stream_name.begin(), stream_name.end(), '.', '_');
    }
    std::string stream = stream_name;
    if (jetstream) {
        stream += fmt::format(" ({} replicas asked", options_.stream_replicas);
        if (!options_.jetstream_domain.empty()) stream += ", JetStream domain " + options_.jetstream_domain;
        stream += ")";
    }
    if (outbound) {
        pairs.emplace_back("sends", subjects(exported_));
        if (jetstream) pairs.emplace_back("stream", stream);
        return pairs;
    }
    if (!jetstream) {
        pairs.emplace_back("receives", options_.subject_prefix + ".> (brings in " + subjects(imported_) +
                                           "; other subjects counted not_imported)");
        return pairs;
    }
    pairs.emplace_back("receives", subjects(imported_));
    pairs.emplace_back("stream", stream);
    const std::string durable = options_.durable.empty() ? pairs[2].second : options_.durable;
    std::vector<std::string> names;
    for (const auto& event : imported_) names.push_back(durable + "_" + std::string{event.name});
    pairs.emplace_back("consumers", joined(names) + " (delivering to _EE.deliver." + stream_name + "." + durable + ")");
    return pairs;
}

EVENT_ENGINE_NATS_DECL void session::validate()
{
    const auto refuse = [this](const std::string& why) {
        throw configuration_error{"event_engine::nats: bridge '" + name() + "': " + why + " (docs/nats.md)"};
    };
    if (options_.servers.empty()) refuse("bridge_options::servers is empty; give at least one NATS URL");
    if (!is_subject(options_.subject_prefix)) {
        refuse("subject_prefix '" + options_.subject_prefix +
               "' is not a NATS subject (tokens of printable ASCII separated by '.', no '*', '>' or spaces)");
    }
    const bool jetstream = options_.mode == delivery::jetstream;
    if (options_.instance.empty()) {
        if (jetstream) {
            refuse("JetStream needs bridge_options::instance, a name for this application that stays the same "
                   "across restarts (it names its durable consumer and marks what it sends)");
        }
        instance_ = default_instance();
    } else {
        instance_ = options_.instance;
    }
    if (!is_subject_token(instance_)) {
        refuse("instance '" + instance_ + "' must be printable ASCII without '.', '*', '>' or spaces");
    }
    if (jetstream) {
        stream_ = options_.stream.empty() ? options_.subject_prefix : options_.stream;
        if (options_.stream.empty()) std::replace(stream_.begin(), stream_.end(), '.', '_');
        {
            const std::scoped_lock lock{state_->mutex};
            state_->stream = stream_;
        }
        durable_ = options_.durable.empty() ? instance_ : options_.durable;
        if (!is_subject_token(stream_)) refuse("stream name '" + stream_ + "' must be one subject token");
        if (!is_subject_token(durable_)) refuse("durable name '" + durable_ + "' must be one subject token");
        if (!options_.jetstream_domain.empty() && !is_subject_token(options_.jetstream_domain)) {
            refuse("jetstream_domain '" + options_.jetstream_domain +
                   "' must be one subject token (or empty: no domain)");
        }
        if (options_.max_unacknowledged < 1) refuse("max_unacknowledged must be at least 1");
        if (options_.stream_replicas < 1 || options_.stream_replicas > 5) refuse("stream_replicas must be 1 to 5");
    }
    if (options_.queue_limit < 1 || options_.queue_byte_limit < 1)
        refuse("queue_limit and queue_byte_limit must be positive");
    if (jetstream && !imported_.empty()) {
        // Each imported event's consumer may have max_unacknowledged messages out to this
        // client at once; a client queue smaller than all of them would drop some, and the
        // server would send them again only after ack_wait.
        const auto needed = static_cast<std::int64_t>(imported_.size()) * options_.max_unacknowledged;
        if (options_.queue_limit < needed) {
            refuse(fmt::format("under JetStream queue_limit ({}) must be at least max_unacknowledged ({}) times the "
                               "{} imported events (one consumer each) = {}: the server may send that many "
                               "unacknowledged messages at once, and the client would drop what its queue cannot "
                               "hold (delivered again only after ack_wait); raise queue_limit or lower "
                               "max_unacknowledged",
                               options_.queue_limit, options_.max_unacknowledged, imported_.size(), needed));
        }
    }
}

EVENT_ENGINE_NATS_DECL std::string session::default_instance()
{
    char host[256] = {};
    if (::gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') std::snprintf(host, sizeof host, "host");
    std::string name = std::string{host} + "-" + std::to_string(::getpid());
    std::replace_if(
        name.begin(), name.end(),
        [](char c) {
            return !is_subject_token({&c, 1});
        },
        '_');
    return name;
}

EVENT_ENGINE_NATS_DECL std::string session::server_list() const
{
    std::string list;
    for (const auto& url : options_.servers) list += (list.empty() ? "" : ", ") + url;
    return list;
}

EVENT_ENGINE_NATS_DECL void session::check_option(natsStatus status, std::string_view what)
{
    if (status != NATS_OK) {
        throw configuration_error{"event_engine::nats: bridge '" + name() + "': " + std::string{what} + ": " +
                                  status_text(status)};
    }
}

EVENT_ENGINE_NATS_DECL void session::connect()
{
    validate();
    for (const auto& event : exported_) subjects_.push_back(options_.subject_prefix + "." + std::string{event.name});
    for (const auto& event : exported_) topics_hex_.push_back(to_hex(event.topic));
    marker_subject_ = options_.subject_prefix + "." + marker_subject;
    std::random_device entropy;
    run_ = fmt::format("{:08x}{:08x}", entropy(), entropy());

    natsOptions* raw_options = nullptr;
    check_option(natsOptions_Create(&raw_options), "cannot create NATS options");
    const options_ptr nats_options{raw_options};
    natsOptions* o = nats_options.get();
    std::vector<const char*> urls;
    bool tls_url = false;
    for (const auto& url : options_.servers) {
        urls.push_back(url.c_str());
        tls_url = tls_url || url.rfind("tls://", 0) == 0;
    }
    check_option(natsOptions_SetServers(o, urls.data(), static_cast<int>(urls.size())), "bad server URLs");
    check_option(natsOptions_SetName(o, instance_.c_str()), "name");
    check_option(natsOptions_SetTimeout(o, options_.connect_timeout.count()), "connect_timeout");
    check_option(natsOptions_SetMaxReconnect(o, options_.max_reconnect_attempts), "max_reconnect_attempts");
    check_option(natsOptions_SetReconnectWait(o, options_.reconnect_wait.count()), "reconnect_wait");
    check_option(natsOptions_SetReconnectBufSize(o, options_.reconnect_buffer_bytes), "reconnect_buffer_bytes");
    check_option(natsOptions_SetWriteDeadline(o, options_.write_deadline.count()), "write_deadline");
    check_option(natsOptions_SetNoEcho(o, true), "no echo");
    check_option(natsOptions_SetSendAsap(o, options_.send_asap), "send_asap");
    if (!options_.user.empty() || !options_.password.empty()) {
        check_option(natsOptions_SetUserInfo(o, options_.user.c_str(), options_.password.c_str()), "user/password");
    }
    if (!options_.token.empty()) check_option(natsOptions_SetToken(o, options_.token.c_str()), "token");
    if (!options_.credentials_file.empty()) {
        if (const auto why = unreadable(options_.credentials_file)) {
            throw configuration_error{"event_engine::nats: bridge '" + name() + "': credentials_file " +
                                      options_.credentials_file + ": cannot read it: " + *why};
        }
        check_option(natsOptions_SetUserCredentialsFromFiles(o, options_.credentials_file.c_str(), nullptr),
                     "credentials_file " + options_.credentials_file);
    }
    const bool tls = options_.tls || tls_url || !options_.ca_file.empty() || !options_.cert_file.empty();
    if (tls) {
        check_option(natsOptions_SetSecure(o, true), "TLS");
        if (!options_.ca_file.empty()) {
            check_option(natsOptions_LoadCATrustedCertificates(o, options_.ca_file.c_str()),
                         "ca_file " + options_.ca_file);
        }
        if (!options_.cert_file.empty() || !options_.key_file.empty()) {
            check_option(natsOptions_LoadCertificatesChain(o, options_.cert_file.c_str(), options_.key_file.c_str()),
                         "cert_file/key_file " + options_.cert_file + ", " + options_.key_file);
        }
    }
    // The callbacks' share of the state, released by the closed callback (or below if
    // there never is a connection).
    auto* holder = new state_holder{state_};
    natsStatus status = natsOptions_SetDisconnectedCB(o, bridge_on_disconnected, holder);
    if (status == NATS_OK) status = natsOptions_SetReconnectedCB(o, bridge_on_reconnected, holder);
    if (status == NATS_OK) status = natsOptions_SetClosedCB(o, bridge_on_closed, holder);
    if (status == NATS_OK) status = natsOptions_SetErrorHandler(o, bridge_on_async_error, holder);
    if (status == NATS_OK) {
        status = natsOptions_SetRetryOnFailedConnect(
            o, options_.retry_initial_connect, options_.retry_initial_connect ? bridge_on_connected : nullptr, holder);
    }
    if (status != NATS_OK) {
        delete holder;
        check_option(status, "callbacks");
    }
    status = natsConnection_Connect(&connection_, o);
    if (status == NATS_OK) {
        state_->connected = true;
        state_->ever_connected = true;
    } else if (!(status == NATS_NOT_YET_CONNECTED && connection_ != nullptr)) {
        delete holder; // no connection, so no closed callback
        connection_ = nullptr;
        const bool credentials =
            !options_.user.empty() || !options_.token.empty() || !options_.credentials_file.empty();
        throw error{"event_engine::nats: bridge '" + name() + "' cannot connect to NATS at " + server_list() + ": " +
                    status_text(status) + " (" +
                    connect_failure_hint(status, tls, !options_.cert_file.empty(), credentials) + ")"};
    } else {
        log(log_level::warn, "NATS bridge '{}': no NATS server at {} yet; it keeps trying (retry_initial_connect)",
            name(), server_list());
    }

    if (options_.mode == delivery::jetstream) set_up_jetstream();
    else if (!imported_.empty()) subscribe_core();
    if (options_.mode == delivery::jetstream && !exported_.empty()) subscribe_acks();
    if (state_->connected) {
        const natsStatus flushed = natsConnection_FlushTimeout(connection_, options_.setup_timeout.count());
        if (flushed != NATS_OK) {
            throw error{"event_engine::nats: bridge '" + name() + "': the NATS server at " + server_list() +
                        " did not confirm the subscription: " + status_text(flushed)};
        }
    }
    subscribed_ = subscription_ != nullptr;
    log_plan();
}

EVENT_ENGINE_NATS_DECL void session::log_plan() const
{
    std::string text;
    for (const bool outbound : {true, false}) {
        if ((outbound ? exported_ : imported_).empty()) continue;
        for (const auto& [key, value] : plan(outbound)) {
            if (key == "servers" || key == "mode" || key == "instance" || text.find(key + " ") != std::string::npos) {
                continue;
            }
            text += "; " + key + " " + value;
        }
    }
    log(log_level::info, "NATS bridge '{}' ({} as '{}') {} {}{}", name(),
        options_.mode == delivery::jetstream ? "JetStream" : "core NATS", instance_,
        state_->connected ? "connected to" : "not connected yet (retry_initial_connect); will use", server_list(),
        text);
}

EVENT_ENGINE_NATS_DECL void session::subscribe_core()
{
    const std::string wildcard = options_.subject_prefix + ".>";
    const natsStatus status = natsConnection_SubscribeSync(&subscription_, connection_, wildcard.c_str());
    if (status != NATS_OK) {
        subscription_ = nullptr;
        throw error{"event_engine::nats: bridge '" + name() + "' cannot subscribe to " + wildcard + ": " +
                    status_text(status)};
    }
    natsSubscription_SetPendingLimits(subscription_, options_.queue_limit, options_.queue_byte_limit);
}

EVENT_ENGINE_NATS_DECL std::string session::joined(const std::vector<std::string>& items)
{
    std::string text;
    for (const auto& item : items) text += (text.empty() ? "" : ", ") + item;
    return text;
}

} // namespace event_engine::nats::detail
