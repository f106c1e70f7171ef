// Misuse: two events with distinct names but the same explicit `topic`.
#include <event_engine/event_engine.hpp>

#include <string_view>

// expect: event_topics_must_be_unique<(struct )?Temperature, ?(struct )?Humidity>
// expect-first-error: these two event types have the same topic bytes

struct Temperature {
    static constexpr std::string_view name = "Temperature";
    static constexpr std::string_view topic = "sensor/1";
    using codec = event_engine::trivial_codec;
    double celsius = 0.0;
};

struct Humidity {
    static constexpr std::string_view name = "Humidity";
    static constexpr std::string_view topic = "sensor/1"; // copy-pasted, not changed
    using codec = event_engine::trivial_codec;
    double percent = 0.0;
};

using events = event_engine::event_list<Temperature, Humidity>;

class Station
    : public event_engine::plugin<Station, event_engine::subscribes<>, event_engine::publishes<Temperature, Humidity>> {
public:
    void run()
    {
        publish(Temperature{21.5});
        publish(Humidity{40.0});
    }
};

int main()
{
    Station station;
    event_engine::app<events> app{{.publish_port = 0, .subscribe_port = 0}};
    app.register_plugin(station);
    return app.run().stopped ? 1 : 0;
}
