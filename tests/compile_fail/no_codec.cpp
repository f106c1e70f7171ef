// Misuse: an event_list entry whose type has a name but no codec.
#include <event_engine/event_engine.hpp>

#include <string>
#include <string_view>

// The list's constraint (event_type) fails; both compilers name it and the types.
// expect: event_type
// expect: Es = [{<]TypeA, Raw[}>]
// clang++ also says which type fails and why; g++ 12 (at its default
// -fconcepts-diagnostics-depth=1) does not.
// expect(Clang): 'Raw' does not satisfy 'event_type'
// expect(Clang): 'Raw' does not satisfy 'has_codec'

struct TypeA {
    static constexpr std::string_view name = "TypeA";
    using codec = event_engine::text_codec;
    std::string text;
};

struct Raw {
    static constexpr std::string_view name = "Raw"; // forgot `using codec = ...;`
    std::string text;
};

using events = event_engine::event_list<TypeA, Raw>;

class Talker : public event_engine::plugin<Talker, event_engine::subscribes<>, event_engine::publishes<TypeA>> {
public:
    void run() { publish(TypeA{"hello"}); }
};

int main()
{
    Talker talker;
    event_engine::app<events> app{{.publish_port = 0, .subscribe_port = 0}};
    app.register_plugin(talker);
    return app.run().stopped ? 1 : 0;
}
