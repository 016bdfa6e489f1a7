import EventLog
import Foundation
import Testing

/// The contract of the byte scans, the streams' last positions and the streaming append, run
/// against every backend like the rest of the contract.
extension EventLogContractTests {
  @Test(arguments: Backend.allCases)
  func byteScansLendWhatTheEventScansCopy(_ backend: Backend) throws {
    try backend.withLog { log throws in
      _ = try log.append(
        (1...12).map { record($0.isMultiple(of: 3) ? "three" : "other", $0) } + [
          EventRecord(stream: "ß/日本", type: "", actor: "a\u{0}b", time: -5, data: #"{"t":"é\n"}"#)
        ],
        expectedVersions: [:])
      let copied = try log.events()
      var lent: [StoredEvent] = []
      try log.forEachEventBytes(from: 1, through: nil) { event in
        lent.append(event.event)
        return true
      }
      #expect(lent == copied)
      var range: [Int64] = []
      try log.forEachEventBytes(from: 4, through: 9) { event in
        range.append(event.position)
        return event.position < 7
      }
      #expect(range == [4, 5, 6, 7])
      var stream: [StoredEvent] = []
      try log.forEachEventBytes(inStream: "three", throughPosition: 9) { event in
        stream.append(event.event)
        return true
      }
      #expect(stream == (try log.events(inStream: "three", throughPosition: 9)))
      #expect(stream.map(\.position) == [3, 6, 9])
      var odd: [StoredEvent] = []
      try log.forEachEventBytes(inStream: "ß/日本", throughPosition: nil) { event in
        odd.append(event.event)
        return true
      }
      #expect(odd == [copied.last!])
    }
  }

  @Test(arguments: Backend.allCases)
  func byteScansReadTheColumnsAskedFor(_ backend: Backend) throws {
    try backend.withLog { log throws in
      _ = try log.append(
        (1...8).map { record($0.isMultiple(of: 2) ? "even" : "odd", $0, time: Int64($0) * 1_000) }
          + [EventRecord(stream: "ß", type: "t", actor: "a", time: -5, data: #"{"t":"é"}"#)],
        expectedVersions: [:])
      let copied = try log.events()
      var subsets: [StoredEventBytes.Columns] = []
      for bits in 0..<8 { subsets.append(StoredEventBytes.Columns(rawValue: UInt8(bits))) }
      #expect(subsets.contains([]) && subsets.contains(.all))
      for columns in subsets {
        var lent: [StoredEvent] = []
        try log.forEachEventBytes(from: 2, through: 9, columns: columns) { event in
          lent.append(event.event)
          return true
        }
        #expect(lent.map(\.position) == Array(2...9), "\(columns)")
        for (event, stored) in zip(lent, copied[1...]) {
          // Always read.
          #expect(
            [event.stream, event.type, event.actor, event.data]
              == [stored.stream, stored.type, stored.actor, stored.data])
          // Read when asked for. Otherwise 0 or empty, or, from a log that lends every column
          // anyway (the in-memory one), as stored; SQLite's log leaves them out.
          let lendsAll = backend == .inMemory
          for (column, same, absent) in [
            (StoredEventBytes.Columns.version, event.version == stored.version, event.version == 0),
            (.time, event.time == stored.time, event.time == 0),
            (.hash, event.hash == stored.hash, event.hash.isEmpty),
          ] {
            let expected = columns.contains(column) || lendsAll ? same : absent
            #expect(expected, "\(columns) at \(event.position)")
          }
        }
      }
      var stopped: [Int64] = []
      try log.forEachEventBytes(from: 1, through: nil, columns: []) { event in
        stopped.append(event.position)
        return event.position < 3
      }
      #expect(stopped == [1, 2, 3])
    }
  }

  /// Each stream's last position at every point, asked many streams at a time, by the log's own
  /// answer and by the default one (reading the streams).
  @Test(arguments: Backend.allCases)
  func lastPositionsOfStreamsAtEveryPoint(_ backend: Backend) throws {
    let names = ["a", "a-1", "A", "é", "e\u{301}", "zz"] + (0..<40).map { "T-\($0 * 7 % 40)" }
    var events: [EventRecord] = []
    for n in 0..<500 {
      events.append(record(names[(n * 31 + n / 7) % names.count], n))
    }
    try backend.withLog { log throws in
      #expect(try log.lastPositions(ofStreams: ["a", "b"], through: 10) == [nil, nil])
      _ = try log.append(events, expectedVersions: [:])
      let asked = names.reversed() + ["missing", "a", "e"]
      for through in [1, 2, 77, 499, 500, 1_000] as [Int64] {
        var last: [[UInt8]: Int64] = [:]
        for (index, event) in events.enumerated() where index < Int(through) {
          last[Array(event.stream.utf8)] = Int64(index + 1)
        }
        let expected = asked.map { last[Array($0.utf8)] }
        #expect(expected.contains { $0 != nil })
        #expect(try log.lastPositions(ofStreams: asked, through: through) == expected, "through \(through)")
        #expect(try log.lastPositionsByReading(asked, through: through) == expected, "through \(through)")
      }
      #expect(try log.lastPositions(ofStreams: [], through: 500).isEmpty)
    }
  }

  @Test(arguments: Backend.allCases)
  func streamingAppendWritesWhatItIsHandedInOneTransaction(_ backend: Backend) throws {
    try backend.withLog { log throws in
      _ = try log.append([record("a"), record("b")], expectedVersions: [:])
      var announced: Int64?
      let result = try log.append(expectedVersions: ["a": 1, "c": 0]) { appender in
        announced = appender.firstPosition
        for n in 0..<5 {
          try appender.append(record(["a", "b", "c"][n % 3], n))
        }
      }
      #expect(announced == 3)
      #expect(result == AppendResult(firstPosition: 3, lastPosition: 7, versions: ["a": 3, "b": 3, "c": 1]))
      #expect(try log.events().map(\.version) == [1, 1, 2, 2, 1, 3, 3])
      #expect(try log.verify() == VerifyReport(events: 7))
    }
  }

  @Test(arguments: Backend.allCases)
  func streamingAppendHashesLikeTheBatchAppend(_ backend: Backend) throws {
    let batch = (0..<3_000).map { record("s\($0 % 37)", $0) }
    let streamed = try backend.withLog { log throws in
      _ = try log.append(expectedVersions: [:]) { appender in
        for event in batch { try appender.append(event) }
      }
      return try log.events()
    }
    let appended = try backend.withLog { log throws in
      _ = try log.append(batch, expectedVersions: [:])
      return try log.events()
    }
    #expect(streamed == appended)
  }

  @Test(arguments: Backend.allCases)
  func aLargeStreamingAppendStaysGapFreeWhileStreamsAppearMidway(_ backend: Backend) throws {
    try backend.withLog { log throws in
      _ = try log.append((0..<10).map { record("old\($0)", $0) }, expectedVersions: [:])
      // Streams nobody named in the expectations keep turning up, some of them stored already.
      let result = try log.append(expectedVersions: ["old0": 1]) { appender in
        for n in 0..<20_000 {
          try appender.append(record(n.isMultiple(of: 997) ? "old\(n % 10)" : "new\(n / 50)", n))
        }
      }
      #expect(result.firstPosition == 11)
      #expect(result.lastPosition == 20_010)
      #expect(result.versions["new0"] == 49)  // event 0 went to old0
      #expect(try log.verify() == VerifyReport(events: 20_010))
      #expect(try log.version(of: "old3") == 1 + (0..<20_000).filter { $0.isMultiple(of: 997) && $0 % 10 == 3 }.count)
    }
  }

  @Test(arguments: Backend.allCases)
  func aStreamingAppendWhoseProducerThrowsWritesNothing(_ backend: Backend) throws {
    struct Stop: Error {}
    try backend.withLog { log throws in
      _ = try log.append([record("a")], expectedVersions: [:])
      for count in [0, 1, 5_000] {
        #expect(throws: Stop.self) {
          try log.append(expectedVersions: ["a": 1]) { appender in
            for n in 0..<count { try appender.append(record("s\(n % 7)", n)) }
            throw Stop()
          }
        }
        #expect(try log.lastPosition() == 1)
      }
      #expect(try log.verify() == VerifyReport(events: 1))
      #expect(try log.append([record("a")], expectedVersions: ["a": 1]).lastPosition == 2)
    }
  }

  @Test(arguments: Backend.allCases)
  func aStreamingAppendChecksExpectationsBeforeProducing(_ backend: Backend) throws {
    try backend.withLog { log throws in
      _ = try log.append([record("a"), record("a")], expectedVersions: [:])
      var produced = false
      #expect(throws: EventLogError.versionConflict(stream: "a", expected: 1, actual: 2)) {
        try log.append(expectedVersions: ["a": 1]) { _ in produced = true }
      }
      #expect(!produced)
      #expect(try log.lastPosition() == 2)
    }
  }

  @Test(arguments: Backend.allCases)
  func theProducerOfAStreamingAppendMayNotCallTheLog(_ backend: Backend) throws {
    try backend.withLog { log throws in
      _ = try log.append([record("a")], expectedVersions: [:])
      var refusal: EventLogError?
      do {
        _ = try log.append(expectedVersions: [:]) { appender in
          try appender.append(record("b"))
          _ = try log.lastPosition()
        }
      } catch let error as EventLogError {
        refusal = error
      }
      guard case .sqlite(let code, _) = try #require(refusal) else {
        Issue.record("expected a misuse error, got \(String(describing: refusal))")
        return
      }
      #expect(code == 21)
      #expect(try log.lastPosition() == 1)
    }
  }

  @Test(arguments: Backend.allCases)
  func eventsLentAsBytesAreAppendedAsTheirRecords(_ backend: Backend) throws {
    // Sizes from empty to far beyond a chunk's first buffer, texts beyond ASCII, and enough events
    // for SQLite's log to hand several chunks to its writer thread and fill them again.
    let batch = (0..<4_500).map { n -> EventRecord in
      let size = n.isMultiple(of: 1_000) ? 70_000 : (n * 7_919) % 300
      let text = String(repeating: n.isMultiple(of: 7) ? "é日" : "x", count: size / 3)
      return EventRecord(
        stream: n.isMultiple(of: 11) ? "ß/\(n % 13)" : "s\(n % 29)", type: n.isMultiple(of: 5) ? "" : "t\(n % 3)",
        actor: "a\(n % 4)", time: Int64(n) - 2_000, data: #"{"t":"\#(text)"}"#)
    }
    let lent = try backend.withLog { log throws in
      _ = try log.append(expectedVersions: [:]) { appender in
        for (n, record) in batch.enumerated() {
          if n.isMultiple(of: 3) {
            try appender.append(record)
          } else {
            try EventRecordBytes.withBytes(of: record) { try appender.append($0) }
          }
        }
      }
      return try log.events()
    }
    let appended = try backend.withLog { log throws in
      _ = try log.append(batch, expectedVersions: [:])
      return try log.events()
    }
    #expect(lent.count == batch.count)
    #expect(lent == appended)
  }

  @Test(arguments: Backend.allCases)
  func bytesThatAreNotUTF8AreRefusedAndNothingIsWritten(_ backend: Backend) throws {
    try backend.withLog { log throws in
      _ = try log.append([record("a")], expectedVersions: [:])
      let invalid: [UInt8] = [0x61, 0xC3, 0x28]  // a lead byte followed by one that cannot follow it
      // Refused as the first event, and after enough events for SQLite's log to write on its
      // writer thread meanwhile; in each column.
      for (count, column) in [(0, 0), (2_500, 1), (3, 2), (1_100, 3)] {
        var refusal: EventLogError?
        do {
          _ = try log.append(expectedVersions: ["a": 1]) { appender in
            for n in 0..<count { try appender.append(record("s\(n % 7)", n)) }
            let good = Array("ok".utf8)
            try invalid.withUnsafeBufferPointer { invalid in
              try good.withUnsafeBufferPointer { good in
                let columns = (0..<4).map { $0 == column ? invalid : good }
                try appender.append(
                  EventRecordBytes(stream: columns[0], type: columns[1], actor: columns[2], time: 0, data: columns[3]))
              }
            }
          }
        } catch let error as EventLogError {
          refusal = error
        }
        guard case .sqlite(let code, let message) = try #require(refusal) else {
          Issue.record("expected a misuse error, got \(String(describing: refusal))")
          return
        }
        #expect(code == 21)
        #expect(message.contains(["stream", "type", "actor", "data"][column]))
        #expect(try log.lastPosition() == 1)
      }
      #expect(try log.verify() == VerifyReport(events: 1))
    }
  }
}
