import EventLog
import Foundation
import Testing

@testable import PartnerSync
@testable import PartnerSyncDomain

/// The test database's URL, or nil.
private let postgresServer = ProcessInfo.processInfo.environment["PARTNERSYNC_TEST_POSTGRES"].flatMap {
  $0.isEmpty ? nil : $0
}

/// Two processes writing one PostgreSQL log (`PARTNERSYNC_TEST_POSTGRES`; `Scripts/postgres-start`
/// prints one): a write of one that guessed the log's last position while the other appended is
/// validated again at the position its events get, so that the notifications stored in the
/// outbox name the positions of the events that send them.
@Suite(.enabled(if: postgresServer != nil))
struct GuessedPositionTests {
  @Test func aWriteWhoseGuessFailedIsValidatedAgainWhereItsEventsLand() throws {
    let server = try #require(postgresServer)
    let name = "guess_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(20)
    let url = server + (server.contains("?") ? "&" : "?") + "log=\(name)"
    let first = try PartnerSyncLog.open(url: url, create: true)
    let second = try PartnerSyncLog.open(url: url)
    func lines(_ ticket: String) -> [String] {
      [
        #"{"type":"outsourced","ticket":"\#(ticket)","by":"acme","partner":"bolt"}"#,
        #"{"type":"accepted","ticket":"\#(ticket)","by":"bolt"}"#,
        #"{"type":"entry-added","ticket":"\#(ticket)","by":"acme","entry":"n1","kind":"note","text":"x"}"#,
      ]
    }
    func write(_ log: PartnerSyncLog, _ lines: [String]) throws -> RecordResult {
      try log.importJSONLines(Array(lines.joined(separator: "\n").utf8), now: Ticket.start)
    }
    // Two writes that find the log as the one before left it: the next one guesses.
    for line in lines("T-1").prefix(2) { _ = try write(first, [line]) }
    _ = try write(second, lines("T-2"))
    let result = try write(first, [lines("T-1")[2]])
    #expect(result.firstPosition == 6, "the other writer's three events came first")
    #expect(!result.notifications.isEmpty)
    #expect(result.notifications.allSatisfy { $0.position == 6 })
    // The stored outbox is what the events send, at their positions.
    #expect(try OutboxTests.paged(first, size: 100) == OutboxTests.implied(first))
    #expect(try OutboxTests.paged(first, size: 100).map(\.cursor.position).contains(6))
    #expect(try first.verify().isHealthy)
    #expect(try second.verify().isHealthy)
  }
}
