import Foundation
import PartnerSyncDomain

extension PartnerSyncLog {
  /// Why `path` can never name a log file, or `nil`: a folder, or a file in a folder that does
  /// not exist (SQLite would only say that it cannot open the file).
  static func problem(withPath path: String, create: Bool) -> PartnerSyncError? {
    guard !path.isEmpty, path != ":memory:", !path.hasPrefix("file:") else { return nil }
    let files = FileManager.default
    var isFolder: ObjCBool = false
    if files.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue {
      let example = (path.hasSuffix("/") ? path : path + "/") + "partnersync.sqlite"
      return PartnerSyncError(
        .unusableLog, "\(path) is a folder, not a log file; give the path of a log file, such as \(example)")
    }
    let folder = (path as NSString).deletingLastPathComponent
    guard !folder.isEmpty else { return nil }
    let what = create ? "cannot create the log \(path)" : "there is no log at \(path)"
    if !files.fileExists(atPath: folder, isDirectory: &isFolder) {
      return PartnerSyncError(
        .logNotFound,
        "\(what): the folder \(folder) does not exist; create it (mkdir -p \(folder)) or give another path")
    }
    if !isFolder.boolValue {
      return PartnerSyncError(
        .logNotFound, "\(what): \(folder) is a file, not a folder; give a path in a folder that exists")
    }
    return nil
  }
}
