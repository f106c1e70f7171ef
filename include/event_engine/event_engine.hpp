#pragma once
/// @file
/// Umbrella header: everything a user of event_engine needs.

#include "event_engine/app.hpp"
#include "event_engine/app_config.hpp"
#include "event_engine/byte_buffer.hpp"
#include "event_engine/codec.hpp"
#include "event_engine/errors.hpp"
#include "event_engine/event.hpp"
#include "event_engine/event_list.hpp"
#include "event_engine/external_plugin.hpp"
#include "event_engine/format.hpp"
#include "event_engine/log.hpp"
#include "event_engine/plugin.hpp"
#include "event_engine/receive_result.hpp"
#include "event_engine/report.hpp"
#include "event_engine/rules.hpp"
