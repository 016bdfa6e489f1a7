import EventLog
import Foundation
import PartnerSyncDomain

/// The event lines of a JSON Lines document, found before any is parsed: where each lies, its
/// number, and the ticket it names.
///
/// Finding them is a light pass (see `EventCodec.plainTicket(in:)`); with it an import knows every
/// ticket it touches, and the last line of each, before it parses a single event: it names the
/// versions it expects up front, and lets a ticket's projection go once its last line is folded.
struct DocumentLines: Sendable {
  /// One line that is not blank.
  struct Line: Sendable {
    /// Where the line's bytes start in the document (of a batch of events: the event's index).
    var start: Int
    /// Where they end (before the line break, and before a carriage return ending the line).
    var end: Int
    /// The line's 1-based number in the document.
    var number: Int
    /// The slot in ``DocumentLines/tickets`` of the ticket the line names, or -1 when the line
    /// is not a valid event.
    var ticket: Int32
  }

  /// Where the lines' events come from: a document's bytes, or events already made (a record).
  enum Source: Sendable {
    case bytes(DocumentBytes)
    case events([TicketEvent])
  }

  let source: Source
  /// The lines that are not blank, in document order.
  private(set) var lines: [Line] = []
  /// The tickets the lines name, in order of first appearance.
  private(set) var tickets: [String] = []
  /// By ticket slot: the index in ``lines`` of the ticket's last line.
  private(set) var lastLine: [Int] = []

  /// From this size on, a document's lines are found in two halves at once.
  static let parallelBytes = 1 << 20

  /// Finds the lines of `bytes`: in two halves at once when the document is large, split at a
  /// line break. `progress` hears of the first half only (it runs on the calling thread).
  init(_ bytes: DocumentBytes, progress: ProgressHandler? = nil) {
    source = .bytes(bytes)
    var names = NameTable()
    let split =
      bytes.count < Self.parallelBytes
      ? bytes.count : bytes.buffer[(bytes.count / 2)...].firstIndex(of: 0x0A).map { $0 + 1 } ?? bytes.count
    // The second half numbers its lines and tickets from its own start; they are renumbered once
    // the first half has counted its lines and named its tickets.
    let worker =
      split == bytes.count
      ? nil
      : Worker(name: "PartnerSync document lines") {
        var secondNames = NameTable()
        let (lines, _) = Self.scan(bytes, split..<bytes.count, names: &secondNames, progress: nil)
        return (lines, secondNames.names)
      }
    let lineBefore: Int
    (lines, lineBefore) = Self.scan(bytes, 0..<split, names: &names, progress: progress)
    if let second = worker?.join() {
      let slots = second.1.map { Int32(names.slot(of: $0)) }
      lines.reserveCapacity(lines.count + second.0.count)
      for var line in second.0 {
        line.number += lineBefore
        if line.ticket >= 0 { line.ticket = slots[Int(line.ticket)] }
        lines.append(line)
      }
    }
    tickets = names.names
    lastLine = Self.lastLines(of: lines, tickets: tickets.count)
  }

  /// The events of a record as the lines of a document: line n is the nth event.
  init(events: [TicketEvent]) {
    source = .events(events)
    var names = NameTable()
    lines = events.indices.map { index in
      Line(start: index, end: index, number: index + 1, ticket: Int32(names.slot(of: events[index].ticket)))
    }
    tickets = names.names
    lastLine = Self.lastLines(of: lines, tickets: tickets.count)
  }

  /// The event of `line`, with its number: parsed from the document, or given.
  func event(_ line: Line) -> Result<PendingEvent, PartnerSyncError> {
    switch source {
    case .bytes(let bytes): PartnerSyncLog.parseLine(bytes[line.start..<line.end], number: line.number)
    case .events(let events): .success((events[line.start], line.number))
    }
  }

  /// Throws the error of the first of `lines` that is not a valid event, if any.
  func firstInvalidLine(in lines: ArraySlice<Line>) throws(PartnerSyncError) {
    guard case .bytes = source else { return }
    for line in lines {
      if case .failure(let failure) = event(line) { throw failure }
    }
  }

  /// By ticket slot, the index of the ticket's last line.
  private static func lastLines(of lines: [Line], tickets: Int) -> [Int] {
    var last = [Int](repeating: -1, count: tickets)
    for (index, line) in lines.enumerated() where line.ticket >= 0 { last[Int(line.ticket)] = index }
    return last
  }

  /// The lines of `range` (which starts a line), numbered from its start, their tickets numbered
  /// in `names`; and the number of the last line.
  private static func scan(
    _ bytes: DocumentBytes, _ range: Range<Int>, names: inout NameTable, progress: ProgressHandler?
  ) -> (lines: [Line], lastLine: Int) {
    var lines: [Line] = []
    // An event line is about 150-250 bytes long.
    lines.reserveCapacity(range.count / 128)
    var number = 0
    let buffer = bytes.buffer
    guard let base = buffer.baseAddress else { return ([], number) }
    var start = range.lowerBound
    while start < range.upperBound {
      number += 1
      if let progress, number & 0xFFF == 0 {
        progress(ProgressReport(phase: .reading, done: Int64(start), total: Int64(buffer.count)))
      }
      // The line's end: the C library's `memchr` looks at many bytes per step.
      let end =
        memchr(base + start, 0x0A, range.upperBound - start).map {
          UnsafePointer($0.assumingMemoryBound(to: UInt8.self)) - base
        } ?? range.upperBound
      var stop = end
      if stop > start, buffer[stop - 1] == 0x0D { stop -= 1 }
      defer { start = end + 1 }
      let slice = UnsafeBufferPointer(rebasing: buffer[start..<stop])
      if slice.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
      lines.append(Line(start: start, end: stop, number: number, ticket: ticketSlot(of: slice, in: &names)))
    }
    return (lines, number)
  }

  /// The slot of the ticket that the line `slice` names, or -1 when it is not a valid event.
  private static func ticketSlot(of slice: UnsafeBufferPointer<UInt8>, in names: inout NameTable) -> Int32 {
    if slice.count <= EventCodec.maximumLineLength, let ticket = EventCodec.plainTicket(in: slice) {
      return Int32(names.slot(of: ticket))
    }
    guard case .success(let event) = PartnerSyncLog.parseLine(slice, number: 0) else { return -1 }
    return Int32(names.slot(of: event.event.ticket))
  }
}

/// A document's bytes, lent by the caller of an import for its duration.
struct DocumentBytes: @unchecked Sendable {
  // @unchecked Sendable: the bytes are only read, and outlive every thread that reads them.
  let buffer: UnsafeBufferPointer<UInt8>

  /// The document in `buffer`, without the UTF-8 byte order mark that some editors write at its
  /// start: its first line starts after it.
  init(buffer: UnsafeBufferPointer<UInt8>) {
    self.buffer = buffer.starts(with: [0xEF, 0xBB, 0xBF]) ? UnsafeBufferPointer(rebasing: buffer[3...]) : buffer
  }

  var count: Int { buffer.count }

  subscript(range: Range<Int>) -> UnsafeBufferPointer<UInt8> {
    UnsafeBufferPointer(rebasing: buffer[range])
  }
}
