// memctl's memory access commands: read, write.
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <stdexcept>

#include "client/memctl/commands.h"
#include "client/memctl/hexdump.h"
#include "client/memctl/parse.h"

namespace memserver::memctl {

namespace {

struct ReadArgs {
  uint64_t pid = 0;
  uint64_t addr = 0;
  uint64_t length = 0;
  bool raw = false;
  bool no_squeeze = false;
};

void AddRead(CLI::App& app, CommandTable& table) {
  auto* cmd = app.add_subcommand("read", "Read LENGTH bytes at ADDR and print a hexdump");
  auto a = std::make_shared<ReadArgs>();
  cmd->add_option("PID", a->pid, "Process id")->required()->transform(NumberArg())->type_name("NUMBER");
  cmd->add_option("ADDR", a->addr, "Start address, any alignment")->required()->transform(NumberArg())->type_name("NUMBER");
  cmd->add_option("LENGTH", a->length, "Bytes (at most the server's max I/O size)")
      ->required()
      ->transform(SizeArg())->type_name("SIZE");
  CLI::Option* raw = cmd->add_flag("--raw", a->raw, "Write the bytes themselves to stdout");
  cmd->add_flag("--no-squeeze,-v", a->no_squeeze, "Show repeated lines instead of '*'")
      ->excludes(raw);
  table.Add(cmd, [a](Context& ctx) {
    std::string data = ctx.client().Read(a->pid, a->addr, a->length);
    if (a->raw) {
      ctx.out().write(data.data(), static_cast<std::streamsize>(data.size()));
    } else {
      ctx.out() << Hexdump(a->addr, data, !a->no_squeeze);
    }
  });
}

struct WriteArgs {
  uint64_t pid = 0;
  uint64_t addr = 0;
  std::string hex;
  std::string text;
  std::string file;
  CLI::Option* hex_option = nullptr;
  CLI::Option* text_option = nullptr;
};

// The whole content of `path` ("-": standard input).
std::string ReadFile(const std::string& path) {
  if (path == "-") {
    std::ostringstream content;
    content << std::cin.rdbuf();
    return content.str();
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path + ": " + std::strerror(errno));
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw std::runtime_error("cannot read " + path + ": " + std::strerror(errno));
  return content;
}

void AddWrite(CLI::App& app, CommandTable& table) {
  auto* cmd = app.add_subcommand("write", "Write bytes at ADDR (exactly one of --hex, --string, --file)");
  auto a = std::make_shared<WriteArgs>();
  cmd->add_option("PID", a->pid, "Process id")->required()->transform(NumberArg())->type_name("NUMBER");
  cmd->add_option("ADDR", a->addr, "Start address, any alignment")->required()->transform(NumberArg())->type_name("NUMBER");
  CLI::Option_group* data = cmd->add_option_group("data", "What to write");
  a->hex_option = data->add_option("--hex", a->hex, "Bytes in hex: 68656c6c6f or '68 65 6c 6c 6f'")
                      ->check(CLI::Validator(
                          [](std::string& text) -> std::string {
                            return ParseHexBytes(text) ? "" : "'" + text + "' is not hex bytes";
                          },
                          "", ""))
                      ->type_name("HEX");
  a->text_option = data->add_option("--string", a->text, "The bytes of a string (no terminating NUL)")
                      ->type_name("STRING");
  data->add_option("--file", a->file, "The content of a file ('-': standard input)")
      ->type_name("FILE");
  data->require_option(1);
  table.Add(cmd, [a](Context& ctx) {
    std::string bytes;
    if (a->hex_option->count() > 0) {
      bytes = *ParseHexBytes(a->hex);  // validated while parsing
    } else if (a->text_option->count() > 0) {
      bytes = a->text;
    } else {
      bytes = ReadFile(a->file);
    }
    ctx.client().Write(a->pid, a->addr, bytes);
  });
}

}  // namespace

void AddIoCommands(CLI::App& app, CommandTable& table) {
  AddRead(app, table);
  AddWrite(app, table);
}

}  // namespace memserver::memctl
