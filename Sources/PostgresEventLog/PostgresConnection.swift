import CLibPQ
import EventLog
import Foundation

/// One libpq connection. It is not thread-safe: ``PostgresEventLog`` serialises all use.
///
/// Every statement runs with binary parameters and, where rows come back, binary results: an
/// `int8` is 8 bytes big-endian, a `bytea` its raw bytes.
final class PostgresConnection {
  /// The log's location, without a password, for error messages.
  let location: String
  private let conninfo: String
  private var handle: OpaquePointer

  /// Connects with `conninfo` (a libpq connection string or URI).
  ///
  /// - Throws: ``EventLogError/fileNotFound(path:)`` when the database does not exist,
  ///   ``EventLogError/unavailable(location:reason:)`` when the server cannot be reached.
  init(conninfo: String, location: String) throws {
    self.conninfo = conninfo
    self.location = location
    guard let handle = PQconnectdb(conninfo) else {
      throw EventLogError.unavailable(location: location, reason: "libpq could not allocate a connection")
    }
    self.handle = handle
    // The server's notices (a warning as it shuts down) are not for the user's terminal: errors
    // say what happened, in one line.
    PQsetNoticeProcessor(handle, { _, _ in }, nil)
    guard PQstatus(handle) == CONNECTION_OK else {
      // (deinit finishes the handle.)
      let reason = Self.message(of: handle)
      // libpq reports a connection's failure as text only, in the server's words.
      if reason.contains("database \""), reason.contains("\" does not exist") {
        throw EventLogError.fileNotFound(path: location + " (its database does not exist)")
      }
      throw EventLogError.unavailable(location: location, reason: reason)
    }
    try execute("SET client_min_messages = warning", purpose: "quiet the server's notices")
  }

  deinit {
    PQfinish(handle)
  }

  /// libpq's last message for `handle`, on one line.
  private static func message(of handle: OpaquePointer) -> String {
    oneLine(String(cString: PQerrorMessage(handle)))
  }

  /// `text`'s lines joined into one, so that an error stays one line.
  private static func oneLine(_ text: String) -> String {
    text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
      .filter { !$0.isEmpty }.joined(separator: " ")
  }

  /// How many statements the server has answered without an error on this connection: a read
  /// that failed before it changed had nothing answered, and may be made again.
  private(set) var answered = 0

  /// Whether the connection is up, as libpq last found it.
  var isConnected: Bool { PQstatus(handle) == CONNECTION_OK }

  /// Connects again when the connection was lost (the server restarted, the network cut it);
  /// called before each operation, never inside a transaction.
  func reconnectIfLost() throws {
    guard PQstatus(handle) != CONNECTION_OK else { return }
    PQreset(handle)
    guard PQstatus(handle) == CONNECTION_OK else {
      throw EventLogError.unavailable(location: location, reason: Self.message(of: handle))
    }
    try execute("SET client_min_messages = warning", purpose: "quiet the server's notices")
  }

  /// Whether a transaction is open (also a failed one, which needs a rollback).
  var isInTransaction: Bool {
    let status = PQtransactionStatus(handle)
    return status == PQTRANS_INTRANS || status == PQTRANS_INERROR || status == PQTRANS_ACTIVE
  }

  /// Runs `sql` (one or more statements without parameters) and discards what it returns.
  func execute(_ sql: String, purpose: String) throws {
    let result = PostgresResult(PQexec(handle, sql))
    try check(result, purpose: purpose)
  }

  /// Runs `body` in a transaction begun with `begin` (or by `body` itself when `begin` is empty),
  /// committing when it returns (unless it committed) and rolling back when it, `begin` or the
  /// commit throws.
  func transaction<Result>(_ begin: String, purpose: String, _ body: () throws -> Result) throws -> Result {
    do {
      if !begin.isEmpty { try execute(begin, purpose: "begin a transaction to \(purpose)") }
      let result = try body()
      if isInTransaction { try execute("COMMIT", purpose: "commit the transaction to \(purpose)") }
      return result
    } catch {
      rollBack()
      throw error
    }
  }

  /// Rolls an open transaction back; a lost connection has none left.
  func rollBack() {
    if PQstatus(handle) == CONNECTION_OK, isInTransaction {
      PQclear(PQexec(handle, "ROLLBACK"))
    }
  }

  /// While set (milliseconds), a statement that ``query(_:_:purpose:)`` runs outside a
  /// transaction is a read whose waits for a lock give up after that time.
  var readLockTimeout: Int32?

  /// Runs `sql` with `parameters`, returning its rows in binary.
  ///
  /// With ``readLockTimeout`` set and outside a transaction, the statement's waits for a lock
  /// give up after that time (`busy`), in one round-trip all the same: `SET LOCAL lock_timeout`
  /// and the statement are sent as one pipeline (libpq's pipeline mode), whose statements run in
  /// one implicit transaction.
  @discardableResult
  func query(_ sql: String, _ parameters: [PostgresParameter] = [], purpose: String) throws -> PostgresResult {
    var bytes: [UInt8] = []
    var offsets: [(start: Int, count: Int)] = []
    for parameter in parameters {
      let start = bytes.count
      parameter.write(into: &bytes)
      offsets.append((start, bytes.count - start))
    }
    let types = parameters.map(\.type)
    let lengths = offsets.map { Int32($0.count) }
    let formats = [Int32](repeating: 1, count: parameters.count)
    func send(_ values: [UnsafePointer<CChar>?]) -> Int32 {
      PQsendQueryParams(handle, sql, Int32(parameters.count), types, values, lengths, formats, 1)
    }
    return try bytes.withUnsafeBufferPointer { buffer in
      // An empty parameter still needs a non-null pointer (null means SQL NULL).
      let base = UnsafeRawPointer(buffer.baseAddress ?? UnsafePointer(bitPattern: 1)!)
      let values: [UnsafePointer<CChar>?] = offsets.map {
        (base + $0.start).assumingMemoryBound(to: CChar.self)
      }
      guard let lockTimeout = readLockTimeout, !isInTransaction else {
        let result = PostgresResult(
          PQexecParams(handle, sql, Int32(parameters.count), types, values, lengths, formats, 1))
        try check(result, purpose: purpose)
        return result
      }
      return try pipelined(purpose: purpose) {
        [
          PQsendQueryParams(handle, "SET LOCAL lock_timeout = \(max(1, lockTimeout))", 0, nil, nil, nil, nil, 0),
          send(values),
        ]
      }[1]
    }
  }

  /// Sends the statements `send` sends (each call's result 1 when sent) in one pipeline and
  /// returns each one's result; throws the first that failed, after rolling back the transaction
  /// it left.
  private func pipelined(purpose: String, _ send: () -> [Int32]) throws -> [PostgresResult] {
    guard PQenterPipelineMode(handle) == 1 else {
      throw EventLogError.unavailable(location: location, reason: Self.message(of: handle))
    }
    var results: [PostgresResult] = []
    var failure: (any Error)?
    let sent = send()
    if sent.allSatisfy({ $0 == 1 }), PQpipelineSync(handle) == 1 {
      // Each statement's result, then the end of the statement (nil), then the pipeline's end.
      while results.count < sent.count, let next = PQgetResult(handle) {
        let result = PostgresResult(next)
        if failure == nil, result.status != PGRES_PIPELINE_ABORTED {
          do { try check(result, purpose: purpose) } catch { failure = error }
        }
        results.append(result)
        if let end = PQgetResult(handle) { PQclear(end) }
      }
      while let next = PQgetResult(handle) {
        if PQresultStatus(next) == PGRES_PIPELINE_SYNC {
          PQclear(next)
          break
        }
        PQclear(next)
      }
    }
    if results.count < sent.count, failure == nil {
      failure = EventLogError.unavailable(
        location: location, reason: "could not \(purpose): \(Self.message(of: handle))")
    }
    PQexitPipelineMode(handle)
    if let failure {
      rollBack()
      throw failure
    }
    return results
  }

  /// The first column of the first row of `sql` as an integer, or nil for no row or NULL.
  func optionalInteger(_ sql: String, _ parameters: [PostgresParameter] = [], purpose: String) throws -> Int64? {
    let result = try query(sql, parameters, purpose: purpose)
    guard result.rowCount > 0, !result.isNull(0, 0) else { return nil }
    return result.int64(0, 0)
  }

  /// Copies `data`, rows in PostgreSQL's binary COPY format with its header and trailer, with
  /// `copy` (a `COPY … FROM STDIN (FORMAT binary)` statement).
  func copy(_ copy: String, data: [UInt8], purpose: String) throws {
    let start = PostgresResult(PQexec(handle, copy))
    guard start.status == PGRES_COPY_IN else {
      try check(start, purpose: purpose)
      throw EventLogError.misuse("could not \(purpose): the server did not start the copy")
    }
    var offset = 0
    let sent = data.withUnsafeBufferPointer { buffer -> Bool in
      while offset < buffer.count {
        let count = min(buffer.count - offset, 1 << 20)
        let pointer = UnsafeRawPointer(buffer.baseAddress! + offset).assumingMemoryBound(to: CChar.self)
        guard PQputCopyData(handle, pointer, Int32(count)) == 1 else { return false }
        offset += count
      }
      return PQputCopyEnd(handle, nil) == 1
    }
    guard sent else {
      throw EventLogError.unavailable(location: location, reason: Self.message(of: handle))
    }
    _ = try results(purpose: purpose)
  }

  /// Runs `sql`, statements without parameters, in one round-trip; returns each statement's
  /// result (rows as text). The first that fails is thrown, and the statements after it do not
  /// run.
  func executeAll(_ sql: String, purpose: String) throws -> [PostgresResult] {
    guard PQsendQuery(handle, sql) == 1 else {
      throw EventLogError.unavailable(location: location, reason: Self.message(of: handle))
    }
    return try results(purpose: purpose)
  }

  /// Every result of the statement sent, once the server has answered it all; throws the first
  /// that failed.
  private func results(purpose: String) throws -> [PostgresResult] {
    var results: [PostgresResult] = []
    var failure: (any Error)?
    while let next = PQgetResult(handle) {
      let result = PostgresResult(next)
      if failure == nil {
        do { try check(result, purpose: purpose) } catch { failure = error }
      }
      results.append(result)
    }
    if let failure { throw failure }
    return results
  }

  /// Throws the error `result` reports, translated.
  private func check(_ result: PostgresResult, purpose: String) throws {
    switch result.status {
    case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_COPY_IN:
      answered &+= 1
      return
    default:
      throw error(of: result, purpose: purpose)
    }
  }

  /// Translates a failed result into an event log error: the one place where that happens.
  private func error(of result: PostgresResult, purpose: String) -> EventLogError {
    let state = result.field(UInt8(ascii: "C")) ?? ""
    let detail = Self.oneLine(
      result.field(UInt8(ascii: "M"))
        ?? result.pointer.map { String(cString: PQresultErrorMessage($0)) } ?? Self.message(of: handle))
    if PQstatus(handle) != CONNECTION_OK || state.hasPrefix("08") || ["57P01", "57P02", "57P03"].contains(state) {
      return .unavailable(location: location, reason: "could not \(purpose): \(detail)")
    }
    switch state {
    case "55P03", "57014", "40001", "40P01":
      // The lock timeout, a cancelled wait, serialization failure, deadlock: retryable.
      return .busy(path: location)
    case "25006":
      return .readOnly(path: location)
    case "3D000":
      return .fileNotFound(path: location)
    default:
      return .server(state: state, message: "could not \(purpose): \(detail)")
    }
  }
}

/// A result of libpq, cleared when released.
final class PostgresResult {
  let pointer: OpaquePointer?

  init(_ pointer: OpaquePointer?) {
    self.pointer = pointer
  }

  deinit {
    PQclear(pointer)
  }

  var status: ExecStatusType { pointer.map { PQresultStatus($0) } ?? PGRES_FATAL_ERROR }
  var rowCount: Int { pointer.map { Int(PQntuples($0)) } ?? 0 }

  /// A field of the error (`C` the SQLSTATE, `M` the primary message).
  func field(_ code: UInt8) -> String? {
    pointer.flatMap { PQresultErrorField($0, Int32(code)) }.map { String(cString: $0) }
  }

  func isNull(_ row: Int, _ column: Int) -> Bool {
    PQgetisnull(pointer, Int32(row), Int32(column)) == 1
  }

  /// The bytes of a binary field, valid while the result lives.
  func bytes(_ row: Int, _ column: Int) -> UnsafeBufferPointer<UInt8> {
    let count = Int(PQgetlength(pointer, Int32(row), Int32(column)))
    guard count > 0, let value = PQgetvalue(pointer, Int32(row), Int32(column)) else {
      return UnsafeBufferPointer(start: nil, count: 0)
    }
    return UnsafeBufferPointer(start: UnsafeRawPointer(value).assumingMemoryBound(to: UInt8.self), count: count)
  }

  /// A binary `int8` field.
  func int64(_ row: Int, _ column: Int) -> Int64 {
    guard let value = PQgetvalue(pointer, Int32(row), Int32(column)) else { return 0 }
    return Int64(bigEndian: UnsafeRawPointer(value).loadUnaligned(as: Int64.self))
  }

  /// A binary `bytea` or `text` field as a string.
  func text(_ row: Int, _ column: Int) -> String {
    String(decoding: bytes(row, column), as: UTF8.self)
  }
}

/// A parameter of a statement, sent in binary.
enum PostgresParameter {
  case int64(Int64)
  case bytes([UInt8])
  /// A one-dimensional `bytea[]`.
  case byteArrays([[UInt8]])
  /// A `text` value (not for the log's own texts, which are `bytea`: see ``string(_:)``).
  case text(String)

  /// A string as `bytea`: the log stores every text as its UTF-8 bytes (`text` cannot hold a NUL,
  /// and bytes compare as SQLite's BINARY collation does).
  static func string(_ value: String) -> PostgresParameter { .bytes(Array(value.utf8)) }

  /// The type's OID: `int8` 20, `bytea` 17, `text` 25, `bytea[]` 1001.
  var type: UInt32 {
    switch self {
    case .int64: 20
    case .bytes: 17
    case .text: 25
    case .byteArrays: 1001
    }
  }

  func write(into buffer: inout [UInt8]) {
    switch self {
    case .int64(let value): buffer.appendBigEndian(value)
    case .bytes(let bytes): buffer.append(contentsOf: bytes)
    case .text(let text): buffer.append(contentsOf: text.utf8)
    case .byteArrays(let elements):
      // Dimensions, no NULLs, the element type; then the one dimension's length and lower
      // bound; then each element's length and bytes.
      for value: Int32 in [1, 0, 17, Int32(elements.count), 1] { buffer.appendBigEndian(value) }
      for element in elements {
        buffer.appendBigEndian(Int32(element.count))
        buffer.append(contentsOf: element)
      }
    }
  }
}

extension Array where Element == UInt8 {
  mutating func appendBigEndian<Value: FixedWidthInteger>(_ value: Value) {
    Swift.withUnsafeBytes(of: value.bigEndian) { append(contentsOf: $0) }
  }
}
