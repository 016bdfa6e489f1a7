import ArgumentParser
import Foundation
import PartnerSync
import PostgresEventLog

struct Deliver: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Deliver the stored outbox to a command, one notification at a time, at least once.",
    discussion: """
      Each notification after the checkpoint is written as one JSON line (its "id" first, then \
      the members of notifications --format json) to the standard input of COMMAND, run with \
      /bin/sh -c and PARTNERSYNC_NOTIFICATION_ID set to the id. When the command exits 0 the \
      checkpoint file moves past the notification; when it fails, delivery stops there with \
      exit 75 and the next run sends that notification again.

      Killed at any point, deliver loses nothing: run again, it sends again at most the one \
      notification that was in flight, with the same id, by which a receiver drops repeats. \
      Without --follow it ends when the outbox has nothing after the checkpoint.

      The checkpoint is --checkpoint FILE, by default the log's path followed by \
      .delivered (.delivered-PARTNER with --as); for a PostgreSQL log, partnersync-NAME.delivered \
      in the current folder.

      Examples:
        partnersync deliver --to 'cat >> inbox.jsonl'
        partnersync deliver --as bolt --to 'curl -sf -d @- https://psa.example/hook' --follow
      """)

  @OptionGroup var global: GlobalOptions

  @Option(help: ArgumentHelp("The command each notification is piped to (run with /bin/sh -c).", valueName: "command"))
  var to: String

  @Option(
    name: .customLong("as"), help: ArgumentHelp("Deliver only this partner's notifications.", valueName: "partner"))
  var partner: String?

  @Option(help: ArgumentHelp("The checkpoint file (see above).", valueName: "file"))
  var checkpoint: String?

  @Flag(help: "Keep delivering new notifications as they are recorded, until interrupted.")
  var follow = false

  @Option(help: ArgumentHelp("With --follow: seconds between looks at the outbox.", valueName: "seconds"))
  var interval: Double = 1

  func validate() throws {
    guard interval > 0, interval <= 3600 else {
      throw ValidationError("--interval takes seconds above 0 and up to 3600, not \(interval)")
    }
  }

  func run() throws {
    let log = try global.openLog()
    let store = DeliveryCheckpoint(path: checkpoint ?? defaultCheckpoint)
    var delivered = 0
    repeat {
      delivered += try log.deliver(checkpoint: store, as: partner) { try pipe($0) }
      if follow { Thread.sleep(forTimeInterval: interval) }
    } while follow
    let cursor = (try? store.load()) ?? .start
    printNote(
      "Delivered \(plural(delivered, "notification")); the checkpoint \(store.path) is at \(cursor).",
      quiet: global.quiet)
  }

  /// The log's path followed by `.delivered` (and `-PARTNER`); for a PostgreSQL log,
  /// `partnersync-NAME.delivered` in the current folder.
  private var defaultCheckpoint: String {
    let base =
      global.isURL ? "partnersync-" + ((try? PostgresLocation(url: global.path).logName) ?? "main") : global.path
    return base + ".delivered" + (partner.map { "-\($0)" } ?? "")
  }

  /// Runs the command with the notification's line on its standard input; throws unless it exits 0.
  ///
  /// Spawned and awaited with posix_spawn and waitpid: Foundation's `Process` polls for the
  /// child's end, which made each delivery take some 60 ms.
  private func pipe(_ notification: OutboxNotification) throws {
    var fds: [Int32] = [0, 0]
    guard Glibc.pipe(&fds) == 0 else { throw CommandFailed(description: "no pipe could be made") }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_adddup2(&actions, fds[0], 0)
    posix_spawn_file_actions_addclose(&actions, fds[0])
    posix_spawn_file_actions_addclose(&actions, fds[1])
    var environment = ProcessInfo.processInfo.environment
    environment["PARTNERSYNC_NOTIFICATION_ID"] = notification.id
    let argv: [String] = ["/bin/sh", "-c", to]
    let arguments: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
    let variables: [UnsafeMutablePointer<CChar>?] = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer { (arguments + variables).forEach { free($0) } }
    var child: pid_t = 0
    let spawned = posix_spawn(&child, "/bin/sh", &actions, nil, arguments, variables)
    close(fds[0])
    guard spawned == 0 else {
      close(fds[1])
      throw CommandFailed(description: "/bin/sh could not be started (\(String(cString: strerror(spawned))))")
    }
    // A command that does not read its input closes the pipe: that is its business.
    signal(SIGPIPE, SIG_IGN)
    let line = Array((notification.deliveryLine + "\n").utf8)
    _ = line.withUnsafeBytes { write(fds[1], $0.baseAddress, $0.count) }
    close(fds[1])
    var status: Int32 = 0
    while waitpid(child, &status, 0) < 0 && errno == EINTR {}
    let (exited, code, signal) = (status & 0x7F == 0, (status >> 8) & 0xFF, status & 0x7F)
    guard exited, code == 0 else {
      throw CommandFailed(
        description: exited ? "the command exited with \(code)" : "the command was killed by signal \(signal)")
    }
  }

  private struct CommandFailed: Error, CustomStringConvertible {
    let description: String
  }
}
