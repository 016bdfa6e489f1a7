import EventLog
import Foundation
import Testing

/// The behaviour every ``EventLog`` backend must share, run against each.
@Suite("Event log contract")
struct EventLogContractTests {
  @Test(arguments: Backend.allCases)
  func appendThenReadRoundTrips(_ backend: Backend) throws {
    try backend.withLog { log throws in
      let batch = [record("a", 1), record("b", 2, type: "created"), record("a", 3)]
      let result = try log.append(batch, expectedVersions: ["a": 0, "b": 0])
      #expect(
        result == AppendResult(firstPosition: 1, lastPosition: 3, versions: ["a": 2, "b": 1]))
      let stored = try log.events()
      #expect(stored.map(\.record) == batch)
      #expect(stored.map(\.position) == [1, 2, 3])
      #expect(stored.map(\.version) == [1, 1, 2])
      #expect(stored.allSatisfy { $0.hash.count == 32 })
      #expect(Set(stored.map(\.hash)).count == 3)
    }
  }

  @Test(arguments: Backend.allCases)
  func positionsAreGapFreeAcrossBatches(_ backend: Backend) throws {
    try backend.withLog { log throws in
      var results: [AppendResult] = []
      for size in [2, 3, 1] {
        results.append(
          try log.append((0..<size).map { record("s\($0)", $0) }, expectedVersions: [:]))
      }
      #expect(results.map(\.firstPosition) == [1, 3, 6])
      #expect(results.map(\.lastPosition) == [2, 5, 6])
      #expect(try log.events().map(\.position) == Array(1...6))
      #expect(try log.lastPosition() == 6)
    }
  }

  @Test(arguments: Backend.allCases)
  func lastPositionsOfStreamsAnswerInTheOrderAsked(_ backend: Backend) throws {
    try backend.withLog { log throws in
      _ = try log.append(
        [record("a", 1), record("b", 2), record("a", 3), record("é\u{0}", 4), record("b", 5)], expectedVersions: [:])
      #expect(try log.lastPositions(ofStreams: ["b", "missing", "a", "é\u{0}"], through: 5) == [5, nil, 3, 4])
      #expect(try log.lastPositions(ofStreams: ["b", "a"], through: 4) == [2, 3])
      #expect(try log.lastPositions(ofStreams: [], through: 5) == [])
    }
  }

  @Test(arguments: Backend.allCases)
  func versionsCountEachStream(_ backend: Backend) throws {
    try backend.withLog { log throws in
      let result = try log.append(
        [record("a"), record("b"), record("a"), record("c"), record("a")], expectedVersions: [:])
      #expect(result.versions == ["a": 3, "b": 1, "c": 1])
      #expect(try log.events().map(\.version) == [1, 1, 2, 1, 3])
      #expect(try log.version(of: "a") == 3)
      #expect(try log.version(of: "c") == 1)
      #expect(try log.version(of: "missing") == 0)
      _ = try log.append([record("c")], expectedVersions: ["c": 1])
      #expect(try log.version(of: "c") == 2)
    }
  }

  @Test(arguments: Backend.allCases)
  func staleExpectedVersionConflictsAndWritesNothing(_ backend: Backend) throws {
    try backend.withLog { log throws in
      _ = try log.append([record("a"), record("a")], expectedVersions: [:])
      var caught: (stream: String, expected: Int64, actual: Int64)?
      do {
        _ = try log.append([record("b"), record("a")], expectedVersions: ["a": 1, "b": 0])
      } catch EventLogError.versionConflict(let stream, let expected, let actual) {
        caught = (stream, expected, actual)
      }
      let conflict = try #require(caught)
      #expect(conflict.stream == "a")
      #expect(conflict.expected == 1)
      #expect(conflict.actual == 2)
      #expect(try log.lastPosition() == 2)
      #expect(try log.version(of: "b") == 0)
      #expect(try log.verify().isHealthy)
      // The log keeps working after a conflict.
      #expect(try log.append([record("a")], expectedVersions: ["a": 2]).firstPosition == 3)
    }
  }

  @Test(arguments: Backend.allCases)
  func expectedZeroMeansTheStreamMustNotExist(_ backend: Backend) throws {
    try backend.withLog { log throws in
      #expect(try log.append([record("new")], expectedVersions: ["new": 0]).versions == ["new": 1])
      #expect(throws: EventLogError.versionConflict(stream: "new", expected: 0, actual: 1)) {
        try log.append([record("new")], expectedVersions: ["new": 0])
      }
      #expect(try log.lastPosition() == 1)
    }
  }

  @Test(arguments: Backend.allCases)
  func expectationsAreCheckedForStreamsOutsideTheBatch(_ backend: Backend) throws {
    try backend.withLog { log throws in
      _ = try log.append([record("guard")], expectedVersions: [:])
      #expect(throws: EventLogError.versionConflict(stream: "guard", expected: 0, actual: 1)) {
        try log.append([record("other")], expectedVersions: ["guard": 0])
      }
      let result = try log.append([record("other")], expectedVersions: ["guard": 1])
      #expect(result.versions == ["other": 1])
    }
  }

  @Test(arguments: Backend.allCases)
  func emptyBatchWritesNothing(_ backend: Backend) throws {
    try backend.withLog { log throws in
      #expect(
        try log.append([], expectedVersions: [:])
          == AppendResult(firstPosition: 1, lastPosition: 0, versions: [:]))
      _ = try log.append([record("a"), record("b")], expectedVersions: [:])
      #expect(
        try log.append([], expectedVersions: ["a": 1])
          == AppendResult(firstPosition: 3, lastPosition: 2, versions: [:]))
      #expect(throws: EventLogError.versionConflict(stream: "a", expected: 0, actual: 1)) {
        try log.append([], expectedVersions: ["a": 0])
      }
      #expect(try log.lastPosition() == 2)
    }
  }

  @Test(arguments: Backend.allCases)
  func readsByPositionRange(_ backend: Backend) throws {
    try backend.withLog { log throws in
      _ = try log.append(
        (1...10).map { record($0.isMultiple(of: 2) ? "even" : "odd", $0) }, expectedVersions: [:])
      #expect(try log.events(from: 3, through: 7).map(\.position) == [3, 4, 5, 6, 7])
      #expect(try log.events(from: 8).map(\.position) == [8, 9, 10])
      #expect(try log.events(from: 0, through: 2).map(\.position) == [1, 2])
      #expect(try log.events(from: 7, through: 3).isEmpty)
      #expect(try log.events(from: 11).isEmpty)
      #expect(try log.events(from: 10, through: 10).map(\.data) == [#"{"n":10}"#])
    }
  }

  @Test(arguments: Backend.allCases)
  func readsOneStreamThroughAPosition(_ backend: Backend) throws {
    try backend.withLog { log throws in
      _ = try log.append(
        (1...10).map { record($0.isMultiple(of: 2) ? "even" : "odd", $0) }, expectedVersions: [:])
      let even = try collect { try log.forEachEvent(inStream: "even", throughPosition: nil, $0) }
      #expect(even.map(\.position) == [2, 4, 6, 8, 10])
      #expect(even.map(\.version) == [1, 2, 3, 4, 5])
      let early = try collect { try log.forEachEvent(inStream: "even", throughPosition: 7, $0) }
      #expect(early.map(\.position) == [2, 4, 6])
      #expect(try log.events(inStream: "odd", throughPosition: 1).map(\.position) == [1])
      #expect(try log.events(inStream: "odd", throughPosition: 0).isEmpty)
      #expect(try log.events(inStream: "none").isEmpty)
    }
  }

  @Test(arguments: Backend.allCases)
  func streamingReadsStopEarly(_ backend: Backend) throws {
    try backend.withLog { log throws in
      _ = try log.append((1...10).map { record("s\($0 % 3)", $0) }, expectedVersions: [:])
      var seen: [Int64] = []
      try log.forEachEvent(from: 1, through: nil) { event in
        seen.append(event.position)
        return seen.count < 2
      }
      #expect(seen == [1, 2])
      seen = []
      try log.forEachEvent(inStream: "s1", throughPosition: nil) { event in
        seen.append(event.position)
        return false
      }
      #expect(seen == [1])
    }
  }

  @Test(arguments: Backend.allCases)
  func errorsThrownByTheBodyPropagate(_ backend: Backend) throws {
    struct Stop: Error {}
    try backend.withLog { log throws in
      _ = try log.append([record("a"), record("a")], expectedVersions: [:])
      #expect(throws: Stop.self) {
        try log.forEachEvent(from: 1, through: nil) { _ in throw Stop() }
      }
      // The log is usable afterwards.
      #expect(try log.append([record("a")], expectedVersions: ["a": 2]).lastPosition == 3)
    }
  }

  @Test(arguments: Backend.allCases)
  func findsAStreamsLastPositionAtATime(_ backend: Backend) throws {
    try backend.withLog { log throws in
      _ = try log.append(
        [
          record("a", time: 100), record("b", time: 150), record("a", time: 200),
          record("a", time: 150), record("a", time: 300),
        ],
        expectedVersions: [:]
      )
      // Before the stream's first event stamped after the time: position 3 (stamped 200) stops
      // the stream at 1 for any time before 200, although position 4 is stamped 150.
      #expect(try log.lastPosition(inStream: "a", beforeFirstAfter: 99) == nil)
      #expect(try log.lastPosition(inStream: "a", beforeFirstAfter: 100) == 1)
      #expect(try log.lastPosition(inStream: "a", beforeFirstAfter: 199) == 1)
      #expect(try log.lastPosition(inStream: "a", beforeFirstAfter: 200) == 4)
      #expect(try log.lastPosition(inStream: "a", beforeFirstAfter: 299) == 4)
      #expect(try log.lastPosition(inStream: "a", beforeFirstAfter: 300) == 5)
      #expect(try log.lastPosition(inStream: "b", beforeFirstAfter: 149) == nil)
      #expect(try log.lastPosition(inStream: "b", beforeFirstAfter: Int64.max) == 2)
      #expect(try log.lastPosition(inStream: "none", beforeFirstAfter: Int64.max) == nil)
    }
  }

  @Test(arguments: Backend.allCases)
  func reportsTheEarliestTime(_ backend: Backend) throws {
    try backend.withLog { log throws in
      #expect(try log.earliestTime() == nil)
      _ = try log.append(
        [record("a", time: 500), record("b", time: -20), record("a", time: 7)],
        expectedVersions: [:])
      #expect(try log.earliestTime() == -20)
    }
  }

  @Test(arguments: Backend.allCases)
  func listsStreamsInByteOrder(_ backend: Backend) throws {
    try backend.withLog { log throws in
      #expect(try log.streams().isEmpty)
      _ = try log.append(
        ["b", "é", "a", "B", "a", "e\u{301}"].map { record($0) }, expectedVersions: [:])
      // "é" and "e" + combining accent are equal Swift strings but distinct streams.
      #expect(
        try log.streams().map { Array($0.utf8) }
          == ["B", "a", "b", "e\u{301}", "é"].map { Array($0.utf8) })
      #expect(try log.events().map(\.version) == [1, 1, 1, 1, 2, 1])
    }
  }

  @Test(arguments: Backend.allCases)
  func largeBatchIsWrittenAsOneGapFreeBatch(_ backend: Backend) throws {
    try backend.withLog { log throws in
      _ = try log.append([record("s7")], expectedVersions: [:])
      let batch = (0..<20_000).map { record("s\($0 % 50)", $0) }
      let result = try log.append(batch, expectedVersions: ["s7": 1, "s8": 0])
      #expect(result.firstPosition == 2)
      #expect(result.lastPosition == 20_001)
      #expect(result.versions.count == 50)
      #expect(result.versions["s7"] == 401)
      #expect(result.versions["s8"] == 400)
      #expect(try log.verify() == VerifyReport(events: 20_001))
      #expect(try log.events(from: 20_001).first?.record == batch.last)
    }
  }

  @Test(arguments: Backend.allCases)
  func verifiesAHealthyLog(_ backend: Backend) throws {
    try backend.withLog { log throws in
      #expect(try log.verify() == VerifyReport(events: 0))
      for batch in 0..<5 {
        _ = try log.append(
          (0..<20).map { record("s\(($0 + batch) % 7)", $0) }, expectedVersions: [:])
      }
      let report = try log.verify()
      #expect(report == VerifyReport(events: 100))
      #expect(report.isHealthy)
    }
  }

  @Test(arguments: Backend.allCases)
  func keepsTextExactly(_ backend: Backend) throws {
    try backend.withLog { log throws in
      let odd = EventRecord(
        stream: "ß/日本/🙂", type: "", actor: "a\u{0}b", time: Int64.min,
        data: #"{"text":"line\nbreak \"quoted\" \u00e9"}"#)
      _ = try log.append([odd, record("x", time: Int64.max)], expectedVersions: [:])
      let stored = try log.events()
      #expect(stored.first?.record == odd)
      #expect(try log.events(inStream: "ß/日本/🙂").count == 1)
      #expect(try log.verify().isHealthy)
    }
  }

  @Test(arguments: Backend.allCases)
  func readsMayNestButAppendInsideAReadIsRefused(_ backend: Backend) throws {
    try backend.withLog { log throws in
      _ = try log.append([record("a"), record("b")], expectedVersions: [:])
      var versions: [Int64] = []
      var refusal: EventLogError?
      try log.forEachEvent(from: 1, through: nil) { event in
        versions.append(try log.version(of: event.stream))
        #expect(try log.events(inStream: event.stream).count == 1)
        do {
          _ = try log.append([record("c")], expectedVersions: [:])
        } catch let error as EventLogError {
          refusal = error
        }
        return true
      }
      #expect(versions == [1, 1])
      guard case .sqlite(let code, _) = try #require(refusal) else {
        Issue.record("expected a misuse error, got \(String(describing: refusal))")
        return
      }
      #expect(code == 21)
      #expect(try log.lastPosition() == 2)
    }
  }

  @Test(arguments: Backend.allCases)
  func concurrentAppendsStayGapFree(_ backend: Backend) throws {
    try backend.withLog { log throws in
      DispatchQueue.concurrentPerform(iterations: 8) { worker in
        for round in 0..<25 {
          _ = try? log.append(
            [record("w\(worker)", round)], expectedVersions: ["w\(worker)": Int64(round)])
        }
      }
      #expect(try log.lastPosition() == 200)
      #expect(try log.streams().count == 8)
      #expect(try log.version(of: "w3") == 25)
      #expect(try log.verify() == VerifyReport(events: 200))
    }
  }
}
