#pragma once
// session's JetStream: the stream and the durable consumers, found or created, and the publish-ack
// subscription.
// Included by session.hpp in the header-only mode, compiled once into
// event_engine::nats_compiled otherwise (src/event_engine_nats.cpp; nats/detail/config.hpp).

#include "event_engine/nats/detail/session.hpp"

#include <nats/nats.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace event_engine::nats::detail {

EVENT_ENGINE_NATS_DECL void session::subscribe_acks()
{
    natsInbox* inbox = nullptr;
    if (natsInbox_Create(&inbox) != NATS_OK) throw error{"event_engine::nats: cannot create an inbox"};
    reply_prefix_ = std::string{inbox} + ".";
    natsInbox_Destroy(inbox);
    const std::string wildcard = reply_prefix_ + "*";
    auto* holder = new state_holder{state_};
    natsStatus status =
        natsConnection_Subscribe(&ack_subscription_, connection_, wildcard.c_str(), bridge_on_publish_ack, holder);
    if (status != NATS_OK) {
        delete holder;
        ack_subscription_ = nullptr;
        throw error{"event_engine::nats: bridge '" + name() +
                    "' cannot subscribe to its JetStream acks: " + status_text(status)};
    }
    natsSubscription_SetPendingLimits(ack_subscription_, -1, -1);
    status = natsSubscription_SetOnCompleteCB(ack_subscription_, bridge_on_ack_subscription_complete, holder);
    if (status != NATS_OK) {
        // Without the completion callback the holder cannot be released safely: keep it (one pointer).
        log(log_level::warn, "NATS bridge '{}': no completion callback for its ack subscription: {}", name(),
            status_text(status));
    }
}

EVENT_ENGINE_NATS_DECL void session::set_up_jetstream()
{
    setup_deadline_ = clock::now() + options_.setup_timeout;
    jsOptions js_options;
    jsOptions_Init(&js_options);
    js_options.Wait = 5000;
    if (!options_.jetstream_domain.empty()) js_options.Domain = options_.jetstream_domain.c_str();
    natsStatus status = natsConnection_JetStream(&jetstream_, connection_, &js_options);
    if (status != NATS_OK) {
        jetstream_ = nullptr;
        throw error{"event_engine::nats: bridge '" + name() + "': no JetStream context: " + status_text(status)};
    }
    const std::string wildcard = options_.subject_prefix + ".>";
    const std::string in_domain =
        options_.jetstream_domain.empty() ? std::string{} : " in JetStream domain '" + options_.jetstream_domain + "'";
    with_setup_retries("finding or creating the JetStream stream '" + stream_ + "'" + in_domain, [&](std::string& why) {
        jsStreamInfo* info = nullptr;
        jsErrCode code{};
        natsStatus s = js_GetStreamInfo(&info, jetstream_, stream_.c_str(), nullptr, &code);
        if (s == NATS_OK) {
            try {
                warn_if_stream_differs(*info, wildcard, in_domain); // throws if it lacks an imported subject
            } catch (...) {
                jsStreamInfo_Destroy(info);
                throw;
            }
            jsStreamInfo_Destroy(info);
            return true;
        }
        if (code != JSStreamNotFoundErr) {
            why = status_text(s);
            return false;
        }
        jsStreamConfig config;
        jsStreamConfig_Init(&config);
        const char* subjects[] = {wildcard.c_str()};
        config.Name = stream_.c_str();
        config.Subjects = subjects;
        config.SubjectsLen = 1;
        config.Storage = js_FileStorage;
        config.Replicas = options_.stream_replicas;
        s = js_AddStream(&info, jetstream_, &config, nullptr, &code);
        if (s == NATS_OK) {
            jsStreamInfo_Destroy(info);
            log(log_level::info, "NATS bridge '{}': created the JetStream stream '{}'{} for {} ({} replicas)", name(),
                stream_, in_domain, wildcard, options_.stream_replicas);
            return true;
        }
        why = status_text(s);
        return false; // e.g. created meanwhile by another site: found on the next round
    });
    if (imported_.empty()) return;
    set_up_consumers(in_domain);
}

EVENT_ENGINE_NATS_DECL void session::warn_if_stream_differs(const jsStreamInfo& info, const std::string& wildcard,
                                                            const std::string& in_domain)
{
    if (info.Config == nullptr) return;
    const jsStreamConfig& config = *info.Config;
    if (config.Replicas != options_.stream_replicas) {
        log(log_level::warn,
            "NATS bridge '{}': the JetStream stream '{}'{} exists with {} replicas, not stream_replicas = {}; it is "
            "used as it is (change it with: nats stream edit {} --replicas {})",
            name(), stream_, in_domain, config.Replicas, options_.stream_replicas, stream_, options_.stream_replicas);
    }
    std::vector<std::string> patterns;
    for (int i = 0; i < config.SubjectsLen; ++i)
        patterns.emplace_back(config.Subjects[i] == nullptr ? "" : config.Subjects[i]);
    const auto held = [&](const std::string& subject) {
        return std::any_of(patterns.begin(), patterns.end(),
                           [&](const std::string& p) { return subject_matches(p, subject); });
    };
    std::vector<std::string> not_held_in;
    std::vector<std::string> not_held_out;
    for (const auto& event : imported_) {
        const std::string subject = options_.subject_prefix + "." + std::string{event.name};
        if (!held(subject)) not_held_in.push_back(subject);
    }
    for (const auto& event : exported_) {
        const std::string subject = options_.subject_prefix + "." + std::string{event.name};
        if (!held(subject)) not_held_out.push_back(subject);
    }
    if (!not_held_in.empty()) {
        throw error{"event_engine::nats: bridge '" + name() + "': the JetStream stream '" + stream_ + "'" + in_domain +
                    " holds subjects [" + joined(patterns) + "], not " + joined(not_held_in) +
                    ", which this bridge brings in: add them to the stream (or " + wildcard +
                    ") or use another stream (bridge_options::stream)"};
    }
    if (!not_held_out.empty()) {
        log(log_level::warn,
            "NATS bridge '{}': the JetStream stream '{}'{} holds subjects [{}], not {}, which this bridge sends: "
            "those events are not stored (their publishes get no ack and are retried); add them to the stream (or {})",
            name(), stream_, in_domain, joined(patterns), joined(not_held_out), wildcard);
    }
}

EVENT_ENGINE_NATS_DECL bool session::subject_matches(std::string_view pattern, std::string_view subject)
{
    for (;;) {
        const auto p_dot = pattern.find('.');
        const auto s_dot = subject.find('.');
        const auto p_token = pattern.substr(0, p_dot);
        const auto s_token = subject.substr(0, s_dot);
        if (p_token == ">") return !subject.empty();
        if (p_token != "*" && p_token != s_token) return false;
        if (p_dot == std::string_view::npos || s_dot == std::string_view::npos) {
            return p_dot == std::string_view::npos && s_dot == std::string_view::npos;
        }
        pattern.remove_prefix(p_dot + 1);
        subject.remove_prefix(s_dot + 1);
    }
}

EVENT_ENGINE_NATS_DECL void session::set_up_consumers(const std::string& in_domain)
{
    const std::string deliver_prefix = "_EE.deliver." + stream_ + "." + durable_;
    // An earlier version of the bridge had one consumer named `durable_` for all of `<prefix>.>`:
    // the new ones start after what it had acknowledged, and it is deleted.
    std::uint64_t start_after = 0;
    bool replace_old = false;
    with_setup_retries("looking for an earlier consumer '" + durable_ + "'" + in_domain, [&](std::string& why) {
        jsConsumerInfo* info = nullptr;
        jsErrCode code{};
        const natsStatus s = js_GetConsumerInfo(&info, jetstream_, stream_.c_str(), durable_.c_str(), nullptr, &code);
        if (s == NATS_OK) {
            const bool ours = info->Config != nullptr && info->Config->DeliverSubject != nullptr &&
                              std::string_view{info->Config->DeliverSubject} == deliver_prefix;
            if (ours) {
                replace_old = true;
                start_after = info->AckFloor.Stream;
            } else {
                log(log_level::warn,
                    "NATS bridge '{}': stream '{}' has a consumer '{}' that this bridge does not use (it reads "
                    "through one consumer per imported event, named '{}_<EventName>')",
                    name(), stream_, durable_, durable_);
            }
            jsConsumerInfo_Destroy(info);
            return true;
        }
        if (code == JSConsumerNotFoundErr) return true;
        why = status_text(s);
        return false;
    });
    consumers_.clear();
    for (const auto& event : imported_) {
        const std::string consumer = durable_ + "_" + std::string{event.name};
        const std::string subject = options_.subject_prefix + "." + std::string{event.name};
        const std::string& deliver = deliver_prefix; // all to the one subscription
        consumers_.push_back(consumer);
        with_setup_retries(
            "finding or creating the durable consumer '" + consumer + "'" + in_domain, [&](std::string& why) {
                jsConsumerInfo* info = nullptr;
                jsErrCode code{};
                natsStatus s = js_GetConsumerInfo(&info, jetstream_, stream_.c_str(), consumer.c_str(), nullptr, &code);
                if (s == NATS_OK) {
                    const jsConsumerConfig* config = info->Config;
                    const auto text = [](const char* c) { return std::string{c == nullptr ? "" : c}; };
                    const std::string filter = config == nullptr ? std::string{} : text(config->FilterSubject);
                    const std::string delivers = config == nullptr ? std::string{} : text(config->DeliverSubject);
                    const std::int64_t max_pending = config == nullptr ? 0 : config->MaxAckPending;
                    const bool explicit_acks = config != nullptr && config->AckPolicy == js_AckExplicit;
                    if (filter == subject && delivers == deliver && explicit_acks &&
                        (max_pending <= 0 || max_pending > options_.max_unacknowledged)) {
                        // Made with a larger max_unacknowledged: the server could push more than the
                        // client's queue holds (queue_limit). Lowered to this bridge's.
                        try {
                            update_max_ack_pending(consumer, *info->Config);
                        } catch (...) {
                            jsConsumerInfo_Destroy(info);
                            throw;
                        }
                    }
                    jsConsumerInfo_Destroy(info);
                    if (filter != subject || delivers != deliver || !explicit_acks) {
                        throw error{"event_engine::nats: bridge '" + name() + "': the consumer '" + consumer +
                                    "' of stream '" + stream_ + "' exists with filter '" + filter +
                                    "', deliver subject '" + delivers + "'" +
                                    (explicit_acks ? std::string{} : " and an ack policy other than explicit") +
                                    ", but this bridge needs filter '" + subject + "', deliver subject '" + deliver +
                                    "' and explicit acks: delete it (nats consumer rm " + stream_ + " " + consumer +
                                    ") or choose another bridge_options::durable"};
                    }
                    return true;
                }
                if (code != JSConsumerNotFoundErr) {
                    why = status_text(s);
                    return false;
                }
                jsConsumerConfig config;
                jsConsumerConfig_Init(&config);
                config.Durable = consumer.c_str();
                config.DeliverSubject = deliver.c_str();
                config.DeliverPolicy = replace_old ? js_DeliverByStartSequence : js_DeliverAll;
                if (replace_old) config.OptStartSeq = start_after + 1;
                config.AckPolicy = js_AckExplicit;
                config.AckWait = std::chrono::duration_cast<std::chrono::nanoseconds>(options_.ack_wait).count();
                config.MaxAckPending = options_.max_unacknowledged;
                config.FilterSubject = subject.c_str();
                s = js_AddConsumer(&info, jetstream_, stream_.c_str(), &config, nullptr, &code);
                if (s == NATS_OK) {
                    jsConsumerInfo_Destroy(info);
                    return true;
                }
                why = status_text(s);
                return false;
            });
    }
    if (replace_old) {
        jsErrCode code{};
        const natsStatus s = js_DeleteConsumer(jetstream_, stream_.c_str(), durable_.c_str(), nullptr, &code);
        log(log_level::warn,
            "NATS bridge '{}': replaced the consumer '{}' of stream '{}' (made by an earlier version for all of "
            "{}.>) by one per imported event ({}), which start after stream sequence {}, the last it had "
            "acknowledged{}",
            name(), durable_, stream_, options_.subject_prefix, joined(consumers_), start_after,
            s == NATS_OK ? std::string{}
                         : "; deleting it failed (" + status_text(s) + "): delete it yourself (nats consumer rm " +
                               stream_ + " " + durable_ + ")");
    }
    warn_of_unused_consumers(deliver_prefix, in_domain);
    const natsStatus status = natsConnection_SubscribeSync(&subscription_, connection_, deliver_prefix.c_str());
    if (status != NATS_OK) {
        subscription_ = nullptr;
        throw error{"event_engine::nats: bridge '" + name() + "' cannot subscribe to its consumers' deliveries on " +
                    deliver_prefix + ": " + status_text(status)};
    }
    natsSubscription_SetPendingLimits(subscription_, options_.queue_limit, options_.queue_byte_limit);
}

EVENT_ENGINE_NATS_DECL void session::warn_of_unused_consumers(const std::string& deliver, const std::string& in_domain)
{
    jsConsumerInfoList* list = nullptr;
    jsErrCode code{};
    if (js_Consumers(&list, jetstream_, stream_.c_str(), nullptr, &code) != NATS_OK || list == nullptr) return;
    std::vector<std::string> unused;
    for (int i = 0; i < list->Count; ++i) {
        const jsConsumerInfo* info = list->List[i];
        if (info == nullptr || info->Name == nullptr || info->Config == nullptr ||
            info->Config->DeliverSubject == nullptr) {
            continue;
        }
        if (deliver != info->Config->DeliverSubject) continue;
        if (std::find(consumers_.begin(), consumers_.end(), std::string_view{info->Name}) != consumers_.end()) continue;
        unused.emplace_back(info->Name);
    }
    jsConsumerInfoList_Destroy(list);
    if (unused.empty()) return;
    log(log_level::warn,
        "NATS bridge '{}': the consumers {} of stream '{}'{} deliver to this bridge ({}) but are not among the "
        "events it brings in (an earlier version of the application imported them): what they deliver is "
        "counted not_imported and acknowledged; delete them if they are not needed (nats consumer rm {} <name>)",
        name(), joined(unused), stream_, in_domain, deliver, stream_);
}

EVENT_ENGINE_NATS_DECL void session::update_max_ack_pending(const std::string& consumer, jsConsumerConfig& config)
{
    const std::int64_t before = config.MaxAckPending;
    config.MaxAckPending = options_.max_unacknowledged;
    jsConsumerInfo* info = nullptr;
    jsErrCode code{};
    const natsStatus s = js_UpdateConsumer(&info, jetstream_, stream_.c_str(), &config, nullptr, &code);
    if (s == NATS_OK) {
        jsConsumerInfo_Destroy(info);
        log(log_level::info,
            "NATS bridge '{}': lowered MaxAckPending of the consumer '{}' from {} to max_unacknowledged ({})", name(),
            consumer, before, options_.max_unacknowledged);
        return;
    }
    throw error{"event_engine::nats: bridge '" + name() + "': the consumer '" + consumer + "' of stream '" + stream_ +
                "' lets the server send " + std::to_string(before) +
                " unacknowledged messages, more than "
                "max_unacknowledged (" +
                std::to_string(options_.max_unacknowledged) + "), and could not be updated (" + status_text(s) +
                "): delete it (nats consumer rm " + stream_ + " " + consumer + ")"};
}

} // namespace event_engine::nats::detail
