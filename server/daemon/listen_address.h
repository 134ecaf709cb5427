// What memserverd logs about the addresses it serves on.
//
//   BoundAddress("0.0.0.0:0", 7070)                     -> "0.0.0.0:7070"
//   ListeningMessage("0.0.0.0:7070", "127.0.0.1:7070")
//       -> "memserverd listening on 0.0.0.0:7070 (dial 127.0.0.1:7070)"
//
// The bound address says which interfaces accept calls (0.0.0.0: all of
// them, reachable from other machines); the dialable one is what a client
// on this machine connects to. Pure functions of their arguments.
#pragma once

#include <string>

namespace memserver::daemon {

// `listen` (host:port, [v6]:port or unix:path, as given to --listen) with
// its port replaced by the one actually bound (`port`, which differs from
// the given one only for port 0). A unix address is returned as it is.
std::string BoundAddress(const std::string& listen, int port);

// "memserverd listening on <bound>", and " (dial <dial>)" after it when the
// two differ (a wildcard host).
std::string ListeningMessage(const std::string& bound, const std::string& dial);

}  // namespace memserver::daemon
