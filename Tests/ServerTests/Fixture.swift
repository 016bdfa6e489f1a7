import Foundation
import Testing

/// A running server with a key for each of three partners: `acme` (a lead), `bolt` (its service
/// partner) and `carl` (engaged on nothing of theirs); every answer is checked against the
/// OpenAPI document.
final class Fixture {
  let server: TestServer
  private(set) var keys: [String: String] = [:]

  init(
    arguments: [String] = [], environment: [String: String] = [:], partners: [String] = ["acme", "bolt", "carl"],
    backend: Backend = .sqlite
  ) throws {
    server = try TestServer(arguments: arguments, environment: environment, postgresURL: backend.newLogURL())
    for partner in partners { keys[partner] = try server.addKey(partner) }
  }

  /// Sends a request as `partner` (nil: without a key) and checks the answer against the document.
  @discardableResult
  func send(
    _ method: String, _ path: String, as partner: String?, body: String = "", headers: [String: String] = [:],
    sourceLocation: SourceLocation = #_sourceLocation
  ) throws -> HTTPClient.Response {
    let response = try server.client.send(
      method, path, key: partner.map { keys[$0] ?? $0 }, headers: headers, body: Array(body.utf8))
    APIDocument.expectConforms(method, path, response, sourceLocation: sourceLocation)
    return response
  }

  /// Records `lines` (JSON Lines) on `ticket` as `partner`, expecting 201.
  @discardableResult
  func record(
    _ ticket: String, as partner: String, _ lines: [String], sourceLocation: SourceLocation = #_sourceLocation
  ) throws -> [String: Any] {
    let response = try send(
      "POST", "/tickets/\(ticket)/events", as: partner, body: lines.joined(separator: "\n"),
      headers: ["Content-Type": "application/x-ndjson"], sourceLocation: sourceLocation)
    #expect(response.status == 201, "\(response.status): \(response.text)", sourceLocation: sourceLocation)
    return try response.object()
  }

  /// The view of `ticket` as `partner`, expecting 200.
  func view(_ ticket: String, as partner: String, query: String = "") throws -> [String: Any] {
    let response = try send("GET", "/tickets/\(ticket)/view\(query)", as: partner)
    #expect(response.status == 200, "\(response.status): \(response.text)")
    return try response.object()
  }

  /// Revokes `partner`'s key with `partnersync-server keys revoke`, as an operator does while the
  /// server runs.
  func revoke(_ partner: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let list = try server.run(["keys", "list"] + server.logArguments)
    let id = try #require(
      list.out.split(separator: "\n").first { $0.contains("\t\(partner)\t") }?.split(separator: "\t").first,
      sourceLocation: sourceLocation)
    #expect(
      try server.run(["keys", "revoke", String(id)] + server.logArguments).code == 0, sourceLocation: sourceLocation)
  }

  /// The last position of `ticket` as its lead sees it.
  func position(_ ticket: String, lead: String = "acme") throws -> Int {
    try view(ticket, as: lead)["position"] as? Int ?? -1
  }
}

/// The kind of log a server test runs on: SQLite always, PostgreSQL when
/// `PARTNERSYNC_TEST_POSTGRES` names a database (`Scripts/postgres-start` prints one).
enum Backend: String, Sendable, CustomTestStringConvertible {
  case sqlite, postgresql

  /// The test database's URL, or nil.
  static let database = ProcessInfo.processInfo.environment["PARTNERSYNC_TEST_POSTGRES"].flatMap {
    $0.isEmpty ? nil : $0
  }

  /// The backends there are.
  static let available: [Backend] = database == nil ? [.sqlite] : [.sqlite, .postgresql]

  /// The URL of a new log of this kind in the test database; nil for SQLite (a file of the
  /// server's folder).
  func newLogURL() -> String? {
    guard self == .postgresql, let database = Self.database else { return nil }
    let name = "server_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(24)
    return database + (database.contains("?") ? "&" : "?") + "log=\(name)"
  }

  var testDescription: String { rawValue }
}

/// Events of the contract's JSON Lines format.
enum Events {
  static func outsourced(_ ticket: String, by lead: String = "acme", to partner: String = "bolt") -> String {
    #"{"type":"outsourced","ticket":"\#(ticket)","by":"\#(lead)","partner":"\#(partner)","resource":"dana"}"#
  }
  static func accepted(_ ticket: String, by partner: String = "bolt") -> String {
    #"{"type":"accepted","ticket":"\#(ticket)","by":"\#(partner)"}"#
  }
  static func note(
    _ ticket: String, by partner: String, entry: String, text: String, visibility: String = "public"
  ) -> String {
    #"{"type":"entry-added","ticket":"\#(ticket)","by":"\#(partner)","entry":"\#(entry)","kind":"note","visibility":"\#(visibility)","text":"\#(text)"}"#
  }
}
