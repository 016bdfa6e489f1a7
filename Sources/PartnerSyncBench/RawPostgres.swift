import CLibPQ
import Foundation
import PostgresEventLog

/// The PostgreSQL reference figures: the same rows written and read through libpq directly, with
/// no validation, no hashing and no decoding, into the event log's own schema.
final class RawPostgres {
  let handle: OpaquePointer

  /// Connects to the database of `location`.
  init(_ location: PostgresLocation) throws {
    guard let handle = PQconnectdb(location.connectionURL) else {
      throw RawSQLiteError(description: "libpq could not allocate a connection")
    }
    self.handle = handle
    guard PQstatus(handle) == CONNECTION_OK else {
      throw RawSQLiteError(description: "cannot connect to \(location): \(String(cString: PQerrorMessage(handle)))")
    }
  }

  deinit {
    PQfinish(handle)
  }

  /// Runs `sql` and returns its result, rows in binary when `binary`; throws unless it succeeded.
  @discardableResult
  func execute(_ sql: String, binary: Bool = false) throws -> OpaquePointer {
    let result = PQexecParams(handle, sql, 0, nil, nil, nil, nil, binary ? 1 : 0)
    try check(result, sql)
    return result!
  }

  private func check(_ result: OpaquePointer?, _ what: String) throws {
    let status = PQresultStatus(result)
    guard status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || status == PGRES_COPY_IN else {
      let message = String(cString: PQerrorMessage(handle))
      PQclear(result)
      throw RawSQLiteError(description: "\(what): \(message)")
    }
  }

  /// A server setting, such as `synchronous_commit`.
  func setting(_ name: String) throws -> String {
    let result = try execute("SHOW \(name)")
    defer { PQclear(result) }
    return String(cString: PQgetvalue(result, 0, 0))
  }

  private static let columns = "position, stream, version, type, actor, time_us, data, hash"

  /// Every row of the log in `schema` (quoted), in position order, or only the one at `position`.
  func rows(schema: String, position: Int64? = nil) throws -> RawRows {
    let result = try execute(
      "SELECT \(Self.columns) FROM \(schema).events "
        + (position.map { "WHERE position = \($0)" } ?? "ORDER BY position"), binary: true)
    defer { PQclear(result) }
    var rows = RawRows()
    for row in 0..<PQntuples(result) {
      func copy(_ column: Int32) -> RawRows.Span {
        let count = Int(PQgetlength(result, row, column))
        let offset = rows.bytes.count
        rows.bytes.append(
          contentsOf: UnsafeRawBufferPointer(start: PQgetvalue(result, row, column), count: count))
        return RawRows.Span(offset: offset, count: count)
      }
      func integer(_ column: Int32) -> Int64 {
        Int64(bigEndian: UnsafeRawPointer(PQgetvalue(result, row, column)).loadUnaligned(as: Int64.self))
      }
      rows.rows.append(
        RawRows.Row(
          position: integer(0), version: integer(2), time: integer(5), stream: copy(1), type: copy(3),
          actor: copy(4), data: copy(6), hash: copy(7)))
    }
    return rows
  }

  /// Copies every row of `rows` into the events of `schema` (quoted) in one transaction, a
  /// binary `COPY` written while it is sent; returns the seconds taken (begin to commit).
  func copy(_ rows: RawRows, into schema: String) throws -> Double {
    let clock = Stopwatch()
    PQclear(try execute("BEGIN"))
    PQclear(try execute("COPY \(schema).events (\(Self.columns)) FROM STDIN (FORMAT binary)"))
    var buffer: [UInt8] = Array("PGCOPY\n".utf8) + [0xFF, 0x0D, 0x0A, 0x00] + [UInt8](repeating: 0, count: 8)
    func send() throws {
      let sent = buffer.withUnsafeBytes {
        PQputCopyData(handle, $0.baseAddress!.assumingMemoryBound(to: CChar.self), Int32($0.count))
      }
      guard sent == 1 else { throw RawSQLiteError(description: "COPY: \(String(cString: PQerrorMessage(handle)))") }
      buffer.removeAll(keepingCapacity: true)
    }
    try rows.bytes.withUnsafeBytes { base in
      func integer(_ value: Int64) {
        buffer.append(bigEndian: Int32(8))
        buffer.append(bigEndian: value)
      }
      func bytes(_ span: RawRows.Span) {
        buffer.append(bigEndian: Int32(span.count))
        buffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: base[span.offset..<(span.offset + span.count)]))
      }
      for row in rows.rows {
        buffer.append(bigEndian: Int16(8))
        integer(row.position)
        bytes(row.stream)
        integer(row.version)
        bytes(row.type)
        bytes(row.actor)
        integer(row.time)
        bytes(row.data)
        bytes(row.hash)
        if buffer.count >= 1 << 20 { try send() }
      }
    }
    buffer.append(bigEndian: Int16(-1))
    try send()
    guard PQputCopyEnd(handle, nil) == 1 else { throw RawSQLiteError(description: "COPY could not end") }
    while let result = PQgetResult(handle) {
      try check(result, "COPY")
      PQclear(result)
    }
    PQclear(try execute("COMMIT"))
    return clock.seconds
  }

  /// Inserts `row` of `rows` into the events of `schema` (quoted) in a transaction of its own
  /// (one prepared statement, committed on its own: one round-trip); returns the seconds taken.
  func insert(_ row: RawRows.Row, of rows: RawRows, into schema: String) throws -> Double {
    if !preparedInsert {
      PQclear(
        PQprepare(
          handle, "raw_insert",
          "INSERT INTO \(schema).events (\(Self.columns)) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
          8, [20, 17, 20, 17, 17, 20, 17, 17]))
      preparedInsert = true
    }
    let clock = Stopwatch()
    var integers = [row.position.bigEndian, row.version.bigEndian, row.time.bigEndian]
    let result = rows.bytes.withUnsafeBytes { base in
      integers.withUnsafeMutableBytes { numbers in
        func pointer(_ span: RawRows.Span) -> UnsafePointer<CChar>? {
          (base.baseAddress! + span.offset).assumingMemoryBound(to: CChar.self)
        }
        func number(_ index: Int) -> UnsafePointer<CChar>? {
          UnsafePointer((numbers.baseAddress! + 8 * index).assumingMemoryBound(to: CChar.self))
        }
        let values = [
          number(0), pointer(row.stream), number(1), pointer(row.type), pointer(row.actor), number(2),
          pointer(row.data), pointer(row.hash),
        ]
        let lengths: [Int32] = [
          8, Int32(row.stream.count), 8, Int32(row.type.count), Int32(row.actor.count), 8, Int32(row.data.count),
          Int32(row.hash.count),
        ]
        return PQexecPrepared(handle, "raw_insert", 8, values, lengths, [Int32](repeating: 1, count: 8), 1)
      }
    }
    try check(result, "raw insert")
    PQclear(result)
    return clock.seconds
  }

  private var preparedInsert = false

  /// Reads every column of every row of the events of `schema` (quoted) in `order`, through a
  /// cursor in binary, 10,000 rows a fetch; returns the seconds taken and the rows read. The
  /// checksum keeps the reads from being optimised away.
  func scan(schema: String, order: String = "position") throws -> (seconds: Double, rows: Int, checksum: Int) {
    let clock = Stopwatch()
    PQclear(try execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"))
    PQclear(
      try execute(
        "DECLARE raw_scan NO SCROLL CURSOR FOR SELECT \(Self.columns) FROM \(schema).events ORDER BY \(order)"))
    var rows = 0
    var checksum = 0
    while true {
      let page = try execute("FETCH FORWARD 10000 FROM raw_scan", binary: true)
      let count = PQntuples(page)
      for row in 0..<count {
        for column: Int32 in 0..<8 {
          let length = Int(PQgetlength(page, row, column))
          if length > 0 { checksum &+= Int(UInt8(bitPattern: PQgetvalue(page, row, column)[length - 1])) &+ length }
        }
      }
      PQclear(page)
      rows += Int(count)
      if count < 10000 { break }
    }
    PQclear(try execute("COMMIT"))
    return (clock.seconds, rows, checksum)
  }
}

extension Array where Element == UInt8 {
  mutating func append<Integer: FixedWidthInteger>(bigEndian value: Integer) {
    Swift.withUnsafeBytes(of: value.bigEndian) { append(contentsOf: $0) }
  }
}
