import Foundation
import Logging

/// A swift-log handler that writes one JSON object per line on standard error: `time`, `level`,
/// `label`, `message`, and the metadata's members, with sorted keys.
struct JSONLogHandler: LogHandler {
  let label: String
  var logLevel: Logger.Level = .info
  var metadata: Logger.Metadata = [:]

  subscript(metadataKey key: String) -> Logger.Metadata.Value? {
    get { metadata[key] }
    set { metadata[key] = newValue }
  }

  func log(event: LogEvent) {
    var object: [String: Any] = [
      "time": ISO8601DateFormatter().string(from: Date()),
      "level": event.level.rawValue,
      "label": label,
      "message": event.message.description,
    ]
    let merged = metadata.merging(event.metadata ?? [:]) { $1 }
    for (key, value) in merged where object[key] == nil { object[key] = value.description }
    guard var data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else { return }
    data.append(0x0A)
    FileHandle.standardError.write(data)
  }
}
