// A second translation unit that includes every public header: a non-inline
// definition in a header would now be defined twice and fail to link.
#include <event_engine/event_engine.hpp>

#include "support.hpp"

std::size_t odr_second_unit_topic_size() { return event_engine::topic_of<test_events::Note>.size(); }
