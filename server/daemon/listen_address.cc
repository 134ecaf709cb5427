#include "server/daemon/listen_address.h"

#include <fmt/format.h>

namespace memserver::daemon {

std::string BoundAddress(const std::string& listen, int port) {
  if (listen.starts_with("unix:") || listen.starts_with("unix-abstract:")) return listen;
  const size_t colon = listen.rfind(':');
  const std::string host = colon == std::string::npos ? listen : listen.substr(0, colon);
  return fmt::format("{}:{}", host, port);
}

std::string ListeningMessage(const std::string& bound, const std::string& dial) {
  std::string message = "memserverd listening on " + bound;
  if (dial != bound) message += " (dial " + dial + ")";
  return message;
}

}  // namespace memserver::daemon
