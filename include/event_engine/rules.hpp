#pragma once
// One class template per compile-time rule. A broken rule instantiates its
// template, so the compiler's first lines read, e.g.,
//   In instantiation of 'struct event_engine::rule::event_topics_must_be_prefix_free<Image, ImageScored>'
//   error: static assertion failed: event_list: the topic of one event is a prefix of another's ...
// naming the rule and the types involved.
//
// Instantiate a rule only to report it: `(void)sizeof(rule::X<...>)` in a statement
// whose value nothing depends on. Never read a value out of a broken rule (or out of
// a class derived from one) in a constant expression: clang marks the class invalid
// after its static_assert fails, so that expression is "not a constant expression",
// `if constexpr` on it instantiates both branches, and one clear error becomes a page.

#include "event_engine/detail/meta/type_list.hpp"

namespace event_engine::detail {

/// Reports Rule (instantiates it, so its static_assert fires) when Broken.
template <bool Broken, class Rule>
void report_if() noexcept
{
    if constexpr (Broken) static_cast<void>(sizeof(Rule)); // naming Rule alone does not instantiate it
}

} // namespace event_engine::detail

namespace event_engine::rule {

// What makes a class an event type (event.hpp). One rule per event, the first it breaks.

template <class Event>
struct event_type_must_be_a_class {
    static_assert(detail::always_false<Event>,
                  "event type: this is not a class type; an event type is a class (not const, not a "
                  "reference or pointer), e.g. struct Note { static constexpr std::string_view name = "
                  "\"Note\"; using codec = event_engine::text_codec; std::string text; };");
};

template <class Event>
struct event_type_needs_a_static_name {
    static_assert(detail::always_false<Event>,
                  "event type: this event type has no `name` (or not a public one); declare "
                  "`static constexpr std::string_view name = \"...\";` in it");
};

template <class Event>
struct event_name_must_be_static_constexpr {
    static_assert(detail::always_false<Event>,
                  "event type: the event type's `name` must be declared `static constexpr "
                  "std::string_view name = \"...\";`: static (one name for the type, not one per "
                  "object) and known at compile time (a `static const std::string` is not)");
};

template <class Event>
struct event_topic_must_be_static_constexpr {
    static_assert(detail::always_false<Event>,
                  "event type: the event type's `topic` must be declared `static constexpr "
                  "std::string_view topic{\"...\", length};`: static and known at compile time");
};

template <class Event>
struct binary_event_topic_needs_its_length {
    static_assert(detail::always_false<Event>,
                  "event type: this event's topic holds a zero byte, and a `const char*` (or a "
                  "string_view made from one) stops at the first zero byte, so the topic would be "
                  "cut short; give its length: `static constexpr std::string_view topic{\"\\x01\\x00\", 2};`");
};

template <class Event>
struct event_type_needs_a_codec {
    static_assert(detail::always_false<Event>,
                  "event type: this event type has no codec; add e.g. `using codec = "
                  "event_engine::text_codec;` (or bytes_codec, trivial_codec, a codec of your own), "
                  "or specialize event_engine::codec<Event> (docs/events.md)");
};

// What an event_list, a plugin and an external plugin declare.

template <class Event>
struct event_list_must_list_each_event_once {
    static_assert(detail::always_false<Event>,
                  "event_list: this event type is listed twice in the event_list; list each event once");
};

template <class Plugin, class Event>
struct subscribes_must_list_each_event_once {
    static_assert(detail::always_false<Plugin, Event>,
                  "subscribes<...>: this event type is listed twice in the plugin's subscribes<...>; "
                  "list each event once");
};

template <class Plugin, class Event>
struct publishes_must_list_each_event_once {
    static_assert(detail::always_false<Plugin, Event>,
                  "publishes<...>: this event type is listed twice in the plugin's publishes<...>; "
                  "list each event once");
};

template <class Plugin, class Second, class Third>
struct plugin_takes_subscribes_then_publishes {
    static_assert(detail::always_false<Plugin, Second, Third>,
                  "event_engine::plugin<Self, Subscriptions, Publications>: the second argument must be "
                  "event_engine::subscribes<...> and the third event_engine::publishes<...>");
};

template <class First, class Second>
struct external_plugin_takes_subscribes_then_publishes {
    static_assert(detail::always_false<First, Second>,
                  "event_engine::external_plugin<Subscriptions, Publications>: the first argument must be "
                  "event_engine::subscribes<...> and the second event_engine::publishes<...>");
};

template <class First, class Second>
struct event_names_must_be_unique {
    static_assert(detail::always_false<First, Second>,
                  "event_list: these two event types have the same name; every event in an "
                  "event_list needs a unique name");
};

template <class First, class Second>
struct event_topics_must_be_unique {
    static_assert(detail::always_false<First, Second>,
                  "event_list: these two event types have the same topic bytes, so subscribers "
                  "could not tell them apart; give each event its own topic");
};

template <class Shorter, class Longer>
struct event_topics_must_be_prefix_free {
    static_assert(detail::always_false<Shorter, Longer>,
                  "event_list: the topic of the first event is a prefix of the topic of the "
                  "second, so ZeroMQ would deliver the second to subscribers of the first; "
                  "rename one or set distinct `topic`s that are not prefixes of each other");
};

template <class Event>
struct event_name_must_not_be_empty {
    static_assert(detail::always_false<Event>,
                  "event_list: this event type has an empty name (or topic); an empty topic "
                  "would match every event");
};

template <class Event>
struct event_topic_must_not_use_reserved_prefix {
    static_assert(detail::always_false<Event>,
                  "event_list: this event's topic overlaps event_engine's reserved control "
                  "prefix (topics starting with byte 0xFF are reserved); choose a topic that does not "
                  "start with byte 0xFF");
};

template <class Plugin, class Event>
struct subscribed_event_must_be_in_event_list {
    static_assert(detail::always_false<Plugin, Event>,
                  "register_plugin: the plugin subscribes to an event type that is not in the "
                  "application's event_list; add the event to the event_list or drop the subscription");
};

template <class Plugin, class Event>
struct published_event_must_be_in_event_list {
    static_assert(detail::always_false<Plugin, Event>,
                  "register_plugin: the plugin publishes an event type that is not in the "
                  "application's event_list; add the event to the event_list or stop publishing it");
};

template <class Plugin, class Event>
struct plugin_must_declare_what_it_publishes {
    static_assert(detail::always_false<Plugin, Event>,
                  "publish: the plugin publishes an event type it did not declare; add it to the "
                  "plugin's publishes<...> list");
};

template <class Plugin, class Event>
struct handler_style_plugin_needs_a_handler_per_subscription {
    static_assert(detail::always_false<Plugin, Event>,
                  "register_plugin: the plugin subscribes to this event but has no handler for it; "
                  "add a member `void on(const Event&)` (taking exactly that event type), or give "
                  "the plugin a `void run()` that receives events itself");
};

template <class Plugin, class Event>
struct handler_overloads_must_cover_each_subscription {
    static_assert(detail::always_false<Plugin, Event>,
                  "register_plugin: the plugin subscribes to this event, but none of its public on() "
                  "members takes it; add `void on(const Event&)` taking exactly this event type (public); "
                  "if a base class declares it, the plugin's own on() hides it: add `using Base::on;`");
};

template <class Plugin, class Event>
struct handlers_must_be_public {
    static_assert(detail::always_false<Plugin, Event>,
                  "register_plugin: the plugin's on() handlers are not accessible (none is public), so "
                  "the engine cannot call on(const Event&); make them public (a class's members are "
                  "private until `public:`)");
};

template <class Plugin>
struct run_must_be_public {
    static_assert(detail::always_false<Plugin>,
                  "register_plugin: the plugin declares run(), but the engine cannot call it; make "
                  "`void run()` public (a class's members are private until `public:`) and give it no "
                  "parameters");
};

template <class Plugin>
struct plugin_must_not_have_both_run_and_on {
    static_assert(detail::always_false<Plugin>,
                  "register_plugin: the plugin has both `void run()` and on() handlers, but the engine "
                  "calls only run(), so on() would never be called; drop run() to have the engine "
                  "call on(), or drop on() and receive() events in run()");
};

template <class Plugin>
struct plugin_needs_run_or_subscriptions {
    static_assert(detail::always_false<Plugin>,
                  "register_plugin: the plugin subscribes to nothing and has no `void run()`, so "
                  "it would never do anything; give it a run() or subscribe it to events");
};

template <class Plugin>
struct plugin_must_derive_from_event_engine_plugin {
    static_assert(detail::always_false<Plugin>, "register_plugin: a plugin must derive from event_engine::plugin<Self, "
                                                "subscribes<...>, publishes<...>> with itself as Self");
};

template <class Plugin>
struct register_plugin_takes_the_plugin_not_a_pointer {
    static_assert(detail::always_false<Plugin>, "register_plugin was given a pointer; pass the plugin object itself "
                                                "(register_plugin(*plugin)), or a std::unique_ptr to hand it over");
};

template <class Plugin>
struct register_plugin_needs_a_non_const_plugin {
    static_assert(detail::always_false<Plugin>,
                  "register_plugin was given a const plugin object; the engine calls its non-const "
                  "members (run(), on(), publish()), so register a non-const object");
};

template <class Plugin, class Event>
struct publish_takes_the_event_not_a_pointer {
    static_assert(detail::always_false<Plugin, Event>,
                  "publish was given a pointer; pass the event itself: publish(*event)");
};

template <class Plugin>
struct plugin_without_subscriptions_cannot_receive {
    static_assert(detail::always_false<Plugin>,
                  "receive: the plugin subscribes to no event type, so receive() could never "
                  "return an event; add the events to its subscribes<...> list");
};

template <class Event>
struct trivial_codec_needs_a_trivially_copyable_event {
    static_assert(detail::always_false<Event>,
                  "trivial_codec copies the event's bytes, so the event type must be trivially "
                  "copyable (no std::string, pointers-to-heap, virtual functions or custom copy); "
                  "use text_codec, bytes_codec or a codec of your own");
};

template <class Event>
struct text_codec_needs_one_string_member {
    static_assert(detail::always_false<Event>,
                  "text_codec needs an event that is an aggregate with exactly one data member, "
                  "a std::string (or another contiguous container of chars with assign()), "
                  "e.g. struct Note { static constexpr std::string_view name = \"Note\"; "
                  "using codec = event_engine::text_codec; std::string text; };");
};

template <class Event>
struct bytes_codec_needs_one_byte_container_member {
    static_assert(detail::always_false<Event>,
                  "bytes_codec needs an event that is an aggregate with exactly one data member, "
                  "a contiguous container of 1-byte elements such as std::vector<std::byte>");
};

template <class Event>
struct view_codec_needs_one_view_member {
    static_assert(detail::always_false<Event>,
                  "text_view_codec needs an aggregate event with exactly one data member of type "
                  "std::string_view, and bytes_view_codec one of type std::span<const std::byte>");
};

template <class Plugin, class Event>
struct receive_cannot_return_events_that_view_their_frame {
    static_assert(detail::always_false<Plugin, Event>,
                  "receive: this event's codec views the received frame instead of copying it "
                  "(text_view_codec, bytes_view_codec), so the event would dangle once receive() "
                  "returns; handle it in a handler-style plugin (on(const Event&)), or give it an "
                  "owning codec such as text_codec");
};

} // namespace event_engine::rule

// reflective_codec (reflective_codec.hpp, docs/layout.md)
namespace event_engine::rule {

/// Names a struct member in a rule by its path from the event, spelt out, e.g.
/// member<'s', 'a', 'm', 'p', 'l', 'e', 's', '[', ']', '.', 'r', 'a', 'w'> for samples[].raw
/// (names for Hana-reflected structs, positions "0", "1", ... for plain aggregates).
template <char... Path>
struct member {};

template <class Event, class MemberType, class Member>
struct reflective_codec_cannot_encode_member {
    static_assert(detail::always_false<Event, MemberType, Member>,
                  "reflective_codec: the portable layout has no encoding for this member's type (the "
                  "arguments are the event, the member's type and its path); it encodes bool, "
                  "std::(u)int8_t..(u)int64_t, float, double, enums, std::byte, std::string, "
                  "std::vector<T> of non-empty T, std::optional<T>, std::array<T, N> and reflected "
                  "structs (docs/layout.md); change the member's type or give the event a codec of its own");
};

template <class Event>
struct reflective_codec_needs_a_reflected_struct {
    static_assert(detail::always_false<Event>,
                  "reflective_codec: the event must be a struct it can reflect: declared with "
                  "BOOST_HANA_DEFINE_STRUCT, adapted with BOOST_HANA_ADAPT_STRUCT, or a plain aggregate "
                  "(no constructors, no base classes, at most 32 members)");
};

} // namespace event_engine::rule

// ---- The whole-graph check (graph_check.hpp): one block, appended. ----
namespace event_engine::rule {

template <class Event, class... Subscribers>
struct subscribed_event_must_have_a_publisher {
    static_assert(detail::always_false<Event, Subscribers...>,
                  "check_graph: these plugins subscribe to this event, but no plugin in the plugins_list "
                  "publishes it, so they would never receive it; add its publisher to the plugins_list, add the "
                  "event to a plugin's publishes<...>, or drop the subscription (a process on the publish port "
                  "does not count: check_graph sees only declared plugins)");
};

template <class Event, class... Publishers>
struct published_event_must_have_a_subscriber {
    static_assert(detail::always_false<Event, Publishers...>,
                  "check_graph<..., graph_rules::strict>: these plugins publish this event, but no plugin in the "
                  "plugins_list subscribes to it; add its subscriber to the plugins_list, subscribe a plugin to "
                  "it, or stop publishing it (or check with graph_rules::complete, which allows this)");
};

} // namespace event_engine::rule
