#pragma once
// The delivery board: which plugin reads whose delivery marks (delivery_marks.hpp),
// decided once by app::run() before any thread starts. The back end's alone; a
// plugin's runtime needs only its own links.

#include "event_engine/detail/runtime/delivery_marks.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace event_engine::detail {

/// One plugin as the delivery board sees it.
struct delivery_party {
    bool tracks = false; // asks for delivery tracking
    std::span<const std::string_view> subscribed;
    std::span<const std::string_view> published;
};

/// Every tracker of an application and who reads its marks, by plugin index.
class delivery_board {
public:
    explicit delivery_board(std::span<const delivery_party> plugins) : links_(plugins.size()), readers_(plugins.size())
    {
        for (std::size_t t = 0; t < plugins.size(); ++t) {
            if (!plugins[t].tracks) continue;
            trackers_.push_back(std::make_unique<delivery_tracker>(t));
            auto& tracker = *trackers_.back();
            links_[t].tracker = &tracker;
            for (std::size_t s = 0; s < plugins.size(); ++s) {
                // A plugin does not wait for itself: it cannot read its marks while it waits.
                if (s == t || !receives_from(plugins[s].subscribed, plugins[t].published)) continue;
                links_[s].watches.push_back({tracker.topic(), &tracker.add_subscriber(), false, t});
                readers_[t].push_back(static_cast<std::uint32_t>(s));
            }
        }
    }
    delivery_board(const delivery_board&) = delete;
    delivery_board& operator=(const delivery_board&) = delete;

    [[nodiscard]] const delivery_links& links(std::size_t index) const { return links_.at(index); }

    /// The plugins that read the marks of tracker @p index (where it pushes them).
    [[nodiscard]] std::span<const std::uint32_t> readers(std::size_t index) const { return readers_.at(index); }

private:
    std::vector<std::unique_ptr<delivery_tracker>> trackers_;
    std::vector<delivery_links> links_;
    std::vector<std::vector<std::uint32_t>> readers_;
};

} // namespace event_engine::detail
