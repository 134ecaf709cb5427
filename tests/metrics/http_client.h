// A tiny HTTP/1.1 test client over Boost.Beast for the metrics tests: sends
// raw bytes (a well-formed request or garbage) on a fresh loopback
// connection and reads the responses that come back, all within a deadline,
// so a server that never answers fails the test instead of hanging it.
#pragma once

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace memserver::metrics::testutil {

namespace http = boost::beast::http;

struct Exchange {
  std::string connect_error;  // non-empty when the connection failed
  std::vector<http::response<http::string_body>> responses;
  // How reading ended after the last response: "end of stream" when the
  // server closed the connection, "timeout" when it kept it open.
  std::string read_end;
};

inline constexpr auto kHttpDeadline = std::chrono::seconds(10);

// Connects to 127.0.0.1:port, writes `request` and reads up to `responses`
// responses; then, with `until_close`, waits (briefly) for the server to
// close the connection and records how reading ended.
inline Exchange Send(int port, const std::string& request, size_t responses = 1,
                     bool until_close = false,
                     std::chrono::milliseconds close_wait = std::chrono::milliseconds(2000)) {
  namespace asio = boost::asio;
  namespace beast = boost::beast;
  using tcp = asio::ip::tcp;
  Exchange out;
  asio::io_context ioc;
  beast::tcp_stream stream(ioc);
  beast::flat_buffer buffer;
  stream.expires_after(kHttpDeadline);
  beast::error_code ec;
  stream.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"),
                               static_cast<unsigned short>(port)),
                 ec);
  if (ec) {
    out.connect_error = ec.message();
    return out;
  }
  // Async with a deadline: the server may legitimately stop reading.
  asio::async_write(stream, asio::buffer(request), [](beast::error_code, size_t) {});
  std::function<void()> read_next;
  read_next = [&] {
    if (out.responses.size() == responses && !until_close) return;
    auto parser = std::make_shared<http::response_parser<http::string_body>>();
    parser->body_limit(64 << 20);
    parser->skip(request.rfind("HEAD ", 0) == 0);  // a HEAD answer has no body
    if (out.responses.size() == responses) stream.expires_after(close_wait);
    http::async_read(stream, buffer, *parser, [&, parser](beast::error_code read_ec, size_t) {
      if (read_ec) {
        out.read_end = read_ec == http::error::end_of_stream ? "end of stream"
                       : read_ec == beast::error::timeout    ? "timeout"
                                                             : read_ec.message();
        return;
      }
      out.responses.push_back(parser->release());
      read_next();
    });
  };
  read_next();
  ioc.run_for(kHttpDeadline + close_wait);
  return out;
}

inline std::string GetRequest(const std::string& target, const std::string& method = "GET",
                              bool keep_alive = false) {
  return method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
         (keep_alive ? "" : "Connection: close\r\n") + "\r\n";
}

}  // namespace memserver::metrics::testutil
