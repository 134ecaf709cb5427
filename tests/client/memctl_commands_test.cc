// memctl's newer commands, parsed by the real command table and run against
// an in-process server (the output goes to a string instead of stdout).
#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "client/memctl/commands.h"
#include "tests/client/client_fixture.h"

namespace memserver::memctl {
namespace {

using client::kPage;

class MemctlCommandTest : public client::ClientTest {
 protected:
  // Parses `args` (without the program name) as memctl's command line.
  // Throws CLI::ParseError on a usage error (or --help).
  void Parse(std::vector<std::string> args) {
    options_ = GlobalOptions();
    app_ = std::make_unique<CLI::App>("memctl", "memctl");
    table_ = CommandTable();
    AddAllCommands(*app_, options_, table_);
    args.insert(args.begin(), {"--server", server_->address()});
    std::reverse(args.begin(), args.end());  // CLI11 takes them reversed
    app_->parse(args);
  }
  // Parses and runs `args`; returns what the command printed.
  std::string Run(std::vector<std::string> args) {
    Parse(std::move(args));
    const Action* action = table_.FindParsed(*app_);
    if (action == nullptr) {
      ADD_FAILURE() << "no action";
      return "";
    }
    std::ostringstream out;
    Context context(options_, out);
    (*action)(context);
    return out.str();
  }
  bool IsUsageError(std::vector<std::string> args) {
    try {
      Parse(std::move(args));
    } catch (const CLI::ParseError& e) {
      return e.get_exit_code() != 0;
    }
    return false;
  }
  static std::string Trim(std::string s) {
    while (!s.empty() && s.back() == '\n') s.pop_back();
    return s;
  }
  std::string NewPid() { return std::to_string(client().CreateProcess("memctl-test").Release()); }

  GlobalOptions options_;
  std::unique_ptr<CLI::App> app_;
  CommandTable table_;
};

TEST_F(MemctlCommandTest, EveryNewCommandHasHelp) {
  for (std::vector<std::string> command : std::vector<std::vector<std::string>>{
           {"fork"}, {"exec"}, {"mremap"}, {"brk"}, {"sbrk"}, {"mlock"}, {"munlock"},
           {"mlockall"}, {"munlockall"}, {"madvise"}, {"msync"}, {"limits"}, {"malloc"},
           {"calloc"}, {"realloc"}, {"free"}, {"smaps"}, {"pmap"}, {"file"}, {"file", "put"},
           {"file", "get"}, {"file", "cat"}, {"file", "ls"}, {"file", "stat"}, {"file", "rm"},
           {"file", "truncate"}, {"file", "create"}}) {
    command.push_back("--help");
    bool help = false;
    try {
      Parse(command);
    } catch (const CLI::CallForHelp&) {
      help = true;
    }
    EXPECT_TRUE(help) << command[0];
  }
}

TEST_F(MemctlCommandTest, UsageErrorsOfTheNewCommands) {
  const std::vector<std::vector<std::string>> bad = {
      {"madvise", "1", "0x1000", "4096", "dontwant"},   // unknown advice
      {"madvise", "1", "0x1000", "4096", "4"},          // numbers are not names
      {"limits", "1", "--as", "lots"},                  // neither size nor 'unlimited'
      {"mlockall", "1"},                                // needs --current or --future
      {"msync", "1", "0x1000", "4096", "--async", "--sync"},
      {"mmap", "1", "4096", "--offset", "4096"},        // --offset needs --file
      {"sbrk", "1", "--4096"},                          // two signs
      {"sbrk", "1", "-4XiB"},                           // bad unit
      {"file"},                                         // group without a command
      {"file", "truncate", "/f"},                       // missing SIZE
      {"calloc", "1", "2"},                             // missing SIZE
  };
  for (const auto& args : bad) {
    EXPECT_TRUE(IsUsageError(args)) << fmt::format("{}", fmt::join(args, " "));
  }
}

TEST_F(MemctlCommandTest, LimitsPrintsAndSetsWithUnlimited) {
  const std::string pid = NewPid();
  std::string out = Run({"limits", pid, "--as", "64MiB", "--memlock", "unlimited"});
  EXPECT_EQ(out,
            "limit        value\n"
            "as           64MiB\n"
            "data     unlimited\n"
            "stack         8MiB\n"
            "memlock  unlimited\n");
  client::Limits limits = client().GetLimits(std::stoull(pid));
  EXPECT_EQ(limits.as, 64u << 20);
  EXPECT_EQ(limits.memlock, client::kUnlimited);
  EXPECT_EQ(limits.stack, 8u << 20);  // untouched
  EXPECT_EQ(Run({"limits", pid}), out);  // without options: print only
}

TEST_F(MemctlCommandTest, ForkPrintsAChildThatOutlivesTheCommand) {
  const std::string pid = NewPid();
  const uint64_t child = std::stoull(Trim(Run({"fork", pid})));
  EXPECT_NE(child, std::stoull(pid));
  EXPECT_TRUE(IsListed(child));
}

TEST_F(MemctlCommandTest, FilePutCatGetLsStatTruncateRm) {
  const std::string local = dir_.path() + "/in.txt";
  {
    std::ofstream(local) << "file content\n";
  }
  EXPECT_EQ(Run({"file", "put", local, "/etc/motd"}), "");
  EXPECT_EQ(Run({"file", "cat", "/etc/motd"}), "file content\n");
  std::string ls = Run({"file", "ls", "/etc"});
  EXPECT_NE(ls.find("13  "), std::string::npos) << ls;  // the size
  EXPECT_NE(ls.find("/etc/motd"), std::string::npos) << ls;
  EXPECT_NE(Run({"file", "stat", "/etc/motd"}).find("13B (13 bytes)"), std::string::npos);
  EXPECT_EQ(Run({"file", "truncate", "/etc/motd", "4"}), "");
  const std::string back = dir_.path() + "/back.txt";
  EXPECT_EQ(Run({"file", "get", "/etc/motd", back}), "");
  std::stringstream content;
  content << std::ifstream(back).rdbuf();
  EXPECT_EQ(content.str(), "file");
  EXPECT_EQ(Run({"file", "create", "/etc/motd", "--truncate"}), "");
  EXPECT_EQ(Run({"file", "cat", "/etc/motd"}), "");
  EXPECT_EQ(Run({"file", "rm", "/etc/motd"}), "");
  EXPECT_THROW(Run({"file", "stat", "/etc/motd"}), client::Error);
}

TEST_F(MemctlCommandTest, ExecPrintsWhereTheProgramWent) {
  client().UploadFile("/bin/true", "/bin/true");
  const std::string pid = NewPid();
  std::string out = Run({"exec", pid, "/bin/true"});
  for (const char* field : {"entry      0x", "load base  0x", "brk        0x", "stack      0x",
                            "segments   "}) {
    EXPECT_NE(out.find(field), std::string::npos) << field << "\n" << out;
  }
  std::string pmap = Run({"pmap", pid});
  EXPECT_NE(pmap.find("r-xp"), std::string::npos) << pmap;
  EXPECT_NE(pmap.find("/bin/true"), std::string::npos) << pmap;
  EXPECT_NE(pmap.find("[stack]"), std::string::npos) << pmap;
}

TEST_F(MemctlCommandTest, MmapOfAFileThenMsyncAndSmaps) {
  client().WriteFile("/f", 0, std::string(2 * kPage, 'f'));
  const std::string pid = NewPid();
  const std::string addr =
      Trim(Run({"mmap", pid, "8KiB", "--file", "/f", "--offset", "4KiB", "--shared", "--populate"}));
  std::vector<client::Mapping> m = client().ListMappings(std::stoull(pid));
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(fmt::format("{:#x}", m[0].start), addr);
  EXPECT_EQ(m[0].backing, "/f");
  EXPECT_EQ(m[0].offset, kPage);
  EXPECT_EQ(Run({"msync", pid, addr, "4KiB"}), "");
  std::string smaps = Run({"smaps", pid});
  EXPECT_NE(smaps.find(fmt::format("{:08x}-{:08x} rw-s 00001000 /f\n", m[0].start, m[0].end)),
            std::string::npos)
      << smaps;
  EXPECT_NE(smaps.find("[rollup]"), std::string::npos) << smaps;
}

TEST_F(MemctlCommandTest, MadviseByNameAndLocking) {
  const std::string pid = NewPid();
  const std::string addr = Trim(Run({"mmap", pid, "8KiB", "--addr", "0x10000000", "--fixed-noreplace"}));
  EXPECT_EQ(addr, "0x10000000");
  client().Write(std::stoull(pid), 0x10000000, "gone soon");
  EXPECT_EQ(Run({"madvise", pid, addr, "4KiB", "DONTNEED"}), "");
  EXPECT_EQ(client().Read(std::stoull(pid), 0x10000000, 4), std::string(4, '\0'));
  EXPECT_EQ(Run({"mlock", pid, addr, "8KiB"}), "");
  EXPECT_EQ(client().GetStats(std::stoull(pid)).process.locked_bytes, 2 * kPage);
  EXPECT_EQ(Run({"munlock", pid, addr, "8KiB"}), "");
  EXPECT_EQ(Run({"mlockall", pid, "--current", "--future"}), "");
  EXPECT_EQ(client().GetStats(std::stoull(pid)).process.locked_bytes, 2 * kPage);
  EXPECT_EQ(Run({"munlockall", pid}), "");
  EXPECT_EQ(client().GetStats(std::stoull(pid)).process.locked_bytes, 0u);
}

TEST_F(MemctlCommandTest, BrkSbrkWithANegativeIncrementAndMremap) {
  const std::string pid = NewPid();
  const uint64_t start = std::stoull(Trim(Run({"brk", pid})), nullptr, 16);
  EXPECT_EQ(Run({"brk", pid, fmt::format("{:#x}", start + 4 * kPage)}),
            fmt::format("{:#x}\n", start + 4 * kPage));
  EXPECT_EQ(Run({"sbrk", pid, "-8KiB"}), fmt::format("{:#x}\n", start + 4 * kPage));
  EXPECT_EQ(Run({"sbrk", pid, "+4KiB"}), fmt::format("{:#x}\n", start + 2 * kPage));
  EXPECT_EQ(Run({"sbrk", pid, "--", "-4096"}), fmt::format("{:#x}\n", start + 3 * kPage));
  EXPECT_EQ(Run({"brk", pid}), fmt::format("{:#x}\n", start + 2 * kPage));

  const std::string addr = Trim(Run({"mmap", pid, "4KiB", "--addr", "0x20000000", "--fixed"}));
  EXPECT_EQ(Run({"mremap", pid, addr, "4KiB", "8KiB", "--fixed", "0x30000000"}), "0x30000000\n");
}

TEST_F(MemctlCommandTest, MallocCallocReallocFreeAndDoubleFree) {
  const std::string pid = NewPid();
  const std::string a = Trim(Run({"malloc", pid, "100"}));
  ASSERT_EQ(a.rfind("0x", 0), 0u) << a;
  const std::string b = Trim(Run({"calloc", pid, "4", "32"}));
  const std::string c = Trim(Run({"realloc", pid, a, "1KiB"}));
  EXPECT_EQ(Run({"free", pid, c}), "");
  EXPECT_EQ(Run({"free", pid, b}), "");
  try {
    Run({"free", pid, b});
    ADD_FAILURE() << "double free was accepted";
  } catch (const client::Error& e) {
    EXPECT_EQ(e.code(), grpc::StatusCode::INVALID_ARGUMENT);
  }
}

TEST_F(MemctlCommandTest, PmapShowsRssAndDirtyInKilobytes) {
  const std::string pid = NewPid();
  Run({"mmap", pid, "16KiB", "--addr", "0x10000000", "--fixed-noreplace"});
  client().Write(std::stoull(pid), 0x10000000, "x");
  std::string pmap = Run({"pmap", pid});
  EXPECT_NE(pmap.find("0000000010000000      16    4      4  rw-p  00000000  [ anon ]"),
            std::string::npos)
      << pmap;
  EXPECT_NE(pmap.find("total kB              16    4      4"), std::string::npos) << pmap;
}

}  // namespace
}  // namespace memserver::memctl
