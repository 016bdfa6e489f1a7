import Testing

@testable import PartnerSync
@testable import PartnerSyncDomain

@Suite struct TimestampTests {
  @Test(
    arguments: [
      ("1970-01-01T00:00:00Z", 0, "1970-01-01T00:00:00Z"),
      ("2026-03-02T09:00:00Z", 1_772_442_000_000_000, "2026-03-02T09:00:00Z"),
      ("2026-03-02T09:00:00.123+02:00", 1_772_434_800_123_000, "2026-03-02T07:00:00.123Z"),
      ("2026-03-02t09:00:00z", 1_772_442_000_000_000, "2026-03-02T09:00:00Z"),
      ("2026-03-02T09:00:00-00:00", 1_772_442_000_000_000, "2026-03-02T09:00:00Z"),
      ("2026-03-02T09:00:00+00:00", 1_772_442_000_000_000, "2026-03-02T09:00:00Z"),
      ("2026-03-02T09:00:00.000000Z", 1_772_442_000_000_000, "2026-03-02T09:00:00Z"),
      ("2026-03-02T09:00:00.1Z", 1_772_442_000_100_000, "2026-03-02T09:00:00.1Z"),
      ("2026-03-02T09:00:00.000001Z", 1_772_442_000_000_001, "2026-03-02T09:00:00.000001Z"),
      ("2026-03-02T09:00:00.120Z", 1_772_442_000_120_000, "2026-03-02T09:00:00.12Z"),
      // A clock's nanoseconds: kept to the microsecond.
      ("2026-03-02T09:00:00.123456789Z", 1_772_442_000_123_456, "2026-03-02T09:00:00.123456Z"),
      ("2026-03-02T09:00:00.0000009Z", 1_772_442_000_000_000, "2026-03-02T09:00:00Z"),
      ("2026-03-02T00:30:00+01:00", 1_772_407_800_000_000, "2026-03-01T23:30:00Z"),
      ("2026-03-02T23:30:00-01:00", 1_772_497_800_000_000, "2026-03-03T00:30:00Z"),
      ("2026-03-02T09:00:00+23:59", 1_772_355_660_000_000, "2026-03-01T09:01:00Z"),
      ("1969-12-31T23:59:59.999999Z", -1, "1969-12-31T23:59:59.999999Z"),
      ("2024-02-29T12:00:00Z", 1_709_208_000_000_000, "2024-02-29T12:00:00Z"),
      ("2000-02-29T00:00:00Z", 951_782_400_000_000, "2000-02-29T00:00:00Z"),
      ("1900-03-01T00:00:00Z", -2_203_891_200_000_000, "1900-03-01T00:00:00Z"),
      ("0000-02-29T00:00:00Z", -62_162_121_600_000_000, "0000-02-29T00:00:00Z"),
      ("0000-01-01T00:00:00Z", -62_167_219_200_000_000, "0000-01-01T00:00:00Z"),
      ("0001-01-01T00:00:00Z", -62_135_596_800_000_000, "0001-01-01T00:00:00Z"),
      ("9999-12-31T23:59:59.999999Z", 253_402_300_799_999_999, "9999-12-31T23:59:59.999999Z"),
      ("0000-01-01T00:30:00-01:00", -62_167_213_800_000_000, "0000-01-01T01:30:00Z"),
    ] as [(String, Int64, String)])
  func parsesValidTimes(_ text: String, _ microseconds: Int64, _ canonical: String) throws {
    let timestamp = try Timestamp.parse(text).get()
    #expect(timestamp.microseconds == microseconds)
    #expect(timestamp.rfc3339 == canonical)
    #expect(Timestamp(rfc3339: text) == timestamp)
    #expect(Timestamp(rfc3339: canonical) == timestamp)
  }

  @Test(
    arguments: [
      ("", "empty string", 0),
      ("26-03-02T09:00:00Z", "expected a 4-digit year", 0),
      ("２026-03-02T09:00:00Z", "expected a 4-digit year", 0),
      ("+2026-03-02T09:00:00Z", "expected a 4-digit year", 0),
      ("2026/03/02T09:00:00Z", "expected '-' after the year", 4),
      ("20260-03-02T09:00:00Z", "expected '-' after the year", 4),
      ("2026-3-02T09:00:00Z", "expected a 2-digit month", 5),
      ("2026-13-02T09:00:00Z", "month 13 is out of range", 5),
      ("2026-00-02T09:00:00Z", "month 0 is out of range", 5),
      ("2026-03/02T09:00:00Z", "expected '-' after the month", 7),
      ("2026-03-2T09:00:00Z", "expected a 2-digit day", 8),
      ("2026-01-00T09:00:00Z", "day 0 is out of range for January 2026", 8),
      ("2026-02-29T09:00:00Z", "day 29 is out of range for February 2026", 8),
      ("1900-02-29T09:00:00Z", "day 29 is out of range for February 1900", 8),
      ("2026-04-31T09:00:00Z", "day 31 is out of range for April 2026", 8),
      ("2026-03-32T09:00:00Z", "day 32 is out of range for March 2026", 8),
      ("2026-03-02", "expected 'T' between date and time", 10),
      ("2026-03-02 09:00:00Z", "expected 'T' between date and time", 10),
      ("2026-03-02X09:00:00Z", "expected 'T' between date and time", 10),
      ("2026-03-02T9:00:00Z", "expected a 2-digit hour", 11),
      ("2026-03-02T24:00:00Z", "hour 24 is out of range", 11),
      ("2026-03-02T09.00:00Z", "expected ':' after the hour", 13),
      ("2026-03-02T09:60:00Z", "minute 60 is out of range", 14),
      ("2026-03-02T09:00Z", "expected ':' after the minute (seconds are required)", 16),
      ("2026-03-02T09:00:0Z", "expected a 2-digit second", 17),
      ("2026-12-31T23:59:60Z", "second 60 (a leap second) cannot be represented", 17),
      ("2026-03-02T09:00:61Z", "second 61 is out of range", 17),
      ("2026-03-02T09:00:00.Z", "expected digits after '.'", 20),
      ("2026-03-02T09:00:00", "missing time zone (use Z or ±HH:MM)", 19),
      ("2026-03-02T09:00:00 Z", "missing time zone (use Z or ±HH:MM)", 19),
      ("2026-03-02T09:00:00UTC", "missing time zone (use Z or ±HH:MM)", 19),
      ("2026-03-02T09:00:00+2:00", "expected a 2-digit offset hour (±HH:MM)", 20),
      ("2026-03-02T09:00:00+24:00", "offset hour 24 is out of range", 20),
      ("2026-03-02T09:00:00+0200", "expected ':' in the time zone offset (±HH:MM)", 22),
      ("2026-03-02T09:00:00+02:6", "expected a 2-digit offset minute (±HH:MM)", 23),
      ("2026-03-02T09:00:00+02:60", "offset minute 60 is out of range", 23),
      ("2026-03-02T09:00:00ZZ", "trailing characters after the time zone", 20),
      ("2026-03-02T09:00:00Z ", "trailing characters after the time zone", 20),
      ("2026-03-02T09:00:00+01:00:00", "trailing characters after the time zone", 25),
      ("0000-01-01T00:30:00+01:00", "time is outside years 0000–9999 in UTC", 0),
      ("9999-12-31T23:30:00-01:00", "time is outside years 0000–9999 in UTC", 0),
    ] as [(String, String, Int)])
  func rejectsInvalidTimes(_ text: String, _ message: String, _ offset: Int) {
    #expect(Timestamp.parse(text) == .failure(TimestampError(message: message, offset: offset)))
    #expect(Timestamp(rfc3339: text) == nil)
  }

  @Test func randomTimesRoundTrip() throws {
    var rng = SplitMix64(seed: 2026)
    let low = Timestamp.minRFC3339.microseconds
    let span = UInt64(Timestamp.maxRFC3339.microseconds - low) + 1
    for i in 0..<20_000 {
      var micros = low + Int64(rng.next() % span)
      if i % 3 == 0 { micros -= micros % 1_000_000 }  // whole seconds too
      let timestamp = Timestamp(microseconds: micros)
      let text = timestamp.rfc3339
      #expect(Timestamp.parse(text) == .success(timestamp), "\(text)")
      // The same instant written with a random offset parses back to it too.
      let offsetMinutes = Int64(rng.below(2 * 24 * 60 - 1) - (24 * 60 - 1))
      let shifted = Timestamp(microseconds: micros + offsetMinutes * 60_000_000)
      guard shifted >= Timestamp.minRFC3339, shifted <= Timestamp.maxRFC3339 else { continue }
      let sign = offsetMinutes < 0 ? "-" : "+"
      let hh = offsetMinutes.magnitude / 60
      let mm = offsetMinutes.magnitude % 60
      let zone = "\(sign)\(hh < 10 ? "0" : "")\(hh):\(mm < 10 ? "0" : "")\(mm)"
      let local = String(shifted.rfc3339.dropLast()) + zone
      #expect(Timestamp.parse(local) == .success(timestamp), "\(local)")
    }
  }

  @Test func calendarMatchesDayByDayCounting() {
    // Walks every day of years 0000-9999 and checks both conversions.
    var days = Timestamp.daysFromCivil(year: 0, month: 1, day: 1)
    #expect(days == -719_528)
    for year in Int64(0)...9999 {
      for month in Int64(1)...12 {
        for day in 1...Timestamp.daysInMonth(year: year, month: month) {
          let civil = Timestamp.civilFromDays(days)
          if civil.year != year || civil.month != month || civil.day != day
            || Timestamp.daysFromCivil(year: year, month: month, day: day) != days
          {
            Issue.record("mismatch at \(year)-\(month)-\(day)")
            return
          }
          days += 1
        }
      }
    }
    #expect(days == Timestamp.daysFromCivil(year: 10_000, month: 1, day: 1))
  }

  @Test func ordersByInstantNotByText() throws {
    let texts = [
      "2026-03-02T09:00:00+02:00",  // 07:00Z
      "2026-03-02T08:00:00Z",
      "2026-03-02T07:30:00.5+00:00",
      "2026-03-02T01:59:59.999999-05:00",  // 06:59:59.999999Z
      "1969-12-31T23:59:59Z",
    ]
    let sorted = try texts.map { try Timestamp.parse($0).get() }.sorted()
    #expect(
      sorted.map(\.rfc3339) == [
        "1969-12-31T23:59:59Z", "2026-03-02T06:59:59.999999Z", "2026-03-02T07:00:00Z",
        "2026-03-02T07:30:00.5Z", "2026-03-02T08:00:00Z",
      ])
    #expect(Timestamp(microseconds: -1) < Timestamp(microseconds: 0))
    #expect(!(Timestamp(microseconds: 5) < Timestamp(microseconds: 5)))
    #expect(Set(sorted + sorted).count == 5)
  }

  @Test func outOfRangeInstantsUseExpandedYears() {
    let beforeMin = Timestamp(microseconds: Timestamp.minRFC3339.microseconds - 1)
    #expect(beforeMin.rfc3339 == "-0001-12-31T23:59:59.999999Z")
    let afterMax = Timestamp(microseconds: Timestamp.maxRFC3339.microseconds + 1)
    #expect(afterMax.rfc3339 == "+10000-01-01T00:00:00Z")
    #expect(Timestamp(rfc3339: beforeMin.rfc3339) == nil)
    #expect(Timestamp(rfc3339: afterMax.rfc3339) == nil)
    #expect(Timestamp(microseconds: .max).rfc3339 == "+294247-01-10T04:00:54.775807Z")
    #expect(Timestamp(microseconds: .min).rfc3339 == "-290308-12-21T19:59:05.224192Z")
    #expect("\(Timestamp(microseconds: 0))" == "1970-01-01T00:00:00Z")
  }
}
