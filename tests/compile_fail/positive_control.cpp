// Positive control: correct use of everything the compile-fail cases misuse.
// It must compile; if it does not, the harness (flags, include paths) is broken
// and the compile-fail results mean nothing.
#include <event_engine/event_engine.hpp>

#include <string>
#include <string_view>

struct Image {
    static constexpr std::string_view name = "Image";
    using codec = event_engine::text_codec;
    std::string path;
};

struct Score {
    static constexpr std::string_view name = "Score";
    static constexpr std::string_view topic{"\x01\x00", 2}; // binary topic with an embedded zero byte
    using codec = event_engine::trivial_codec;
    int id = 0;
    double value = 0.0;
};

struct Tick {
    static constexpr const char* name = "Tick"; // a const char* name, and a char array topic
    static constexpr char topic[] = "T";
    using codec = event_engine::trivial_codec;
    int count = 0;
};

using events = event_engine::event_list<Image, Score, Tick>;
static_assert(events::valid);
static_assert(event_engine::is_event_v<Image> && event_engine::is_event_v<Score> && event_engine::is_event_v<Tick>);

// Loop style: publishes, then pulls its answers with receive().
class Producer
    : public event_engine::plugin<Producer, event_engine::subscribes<Score>, event_engine::publishes<Image>> {
public:
    void run()
    {
        publish(Image{"a.png"});
        if (auto event = receive()) static_cast<void>(std::get<Score>(*event));
    }
};

// Handler style: one on() per subscription.
class Scorer : public event_engine::plugin<Scorer, event_engine::subscribes<Image>, event_engine::publishes<Score>> {
public:
    void on(const Image& image)
    {
        publish(Score{1, static_cast<double>(image.path.size())});
        finish();
    }
};

// Loop style without subscriptions: may publish, never receives.
class Announcer : public event_engine::plugin<Announcer, event_engine::subscribes<>, event_engine::publishes<Image>> {
public:
    void run() { publish(Image{"b.png"}); }
};

// A base class with a handler: the plugin's own on() would hide it, so it says `using`.
template <class Self, class Subscriptions>
class tick_counter : public event_engine::plugin<Self, Subscriptions, event_engine::publishes<>> {
public:
    void on(const Tick&) { ++ticks; }
    int ticks = 0;
};

class Auditor final : public tick_counter<Auditor, event_engine::subscribes<Tick, Image>> {
public:
    using tick_counter::on;
    void on(const Image&) { finish(); }

private:
    void helper() {} // private members other than run() and on() are fine
};

// Every handler inherited from the base, none declared here.
class TickWatcher : public tick_counter<TickWatcher, event_engine::subscribes<Tick>> {};

int main()
{
    Producer producer;
    TickWatcher watcher;
    event_engine::app<events> app{{.publish_port = 0, .subscribe_port = 0}};
    app.register_plugin(producer).register_plugin(Scorer{}).register_plugin(std::make_unique<Announcer>());
    app.register_plugin(Auditor{}).register_plugin(watcher);
    return app.run().stopped ? 1 : 0;
}
