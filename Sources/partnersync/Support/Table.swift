import Foundation

/// A plain text table for people: a header row, aligned columns, long cells shortened.
struct Table {
  var headers: [String]
  var rows: [[String]] = []
  var maximumCellWidth = 48
  /// Decorates a cell after padding (colours), given its column and raw text.
  var style: ((Int, String, String) -> String)?

  init(_ headers: String...) { self.headers = headers }

  mutating func add(_ cells: String...) { rows.append(cells) }

  var lines: [String] {
    let clipped = rows.map { $0.map { clip($0) } }
    var widths = headers.map(\.count)
    for row in clipped {
      for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) }
    }
    func render(_ cells: [String]) -> String {
      var line = ""
      for (i, cell) in cells.enumerated() {
        if i > 0 { line += "  " }
        let padded = i == cells.count - 1 ? cell : cell.padding(toLength: widths[i], withPad: " ", startingAt: 0)
        line += style.map { $0(i, cell, padded) } ?? padded
      }
      while line.hasSuffix(" ") { line.removeLast() }
      return line
    }
    return [render(headers)] + clipped.map(render)
  }

  private func clip(_ text: String) -> String {
    let flat = text.replacingOccurrences(of: "\n", with: " ")
    return flat.count <= maximumCellWidth ? flat : String(flat.prefix(maximumCellWidth - 1)) + "…"
  }
}

/// A number as people read it: integers without a fraction.
func formatNumber(_ value: Double) -> String {
  if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
  return String(value)
}

/// "1 event", "2 events".
func plural(_ count: some BinaryInteger, _ noun: String) -> String {
  "\(count) \(noun)\(count == 1 ? "" : "s")"
}
