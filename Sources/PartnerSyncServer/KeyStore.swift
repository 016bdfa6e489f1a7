import Crypto
import Foundation
import PartnerSyncDomain

/// The API keys of a log's HTTP server: a JSON file next to the log (`LOG.keys`) that holds, for
/// each key, only its SHA-256 hash, the partner it acts as, and whether it was revoked.
///
/// A key is shown once, when it is added, and cannot be read back. The server looks a key up by
/// hashing it and comparing the hash, in constant time, with every stored hash; it reads the file
/// again whenever the file changes, so that a key added or revoked while it runs takes effect at
/// the next request.
public struct KeyStore: Sendable {
  /// One stored key: never the key itself.
  public struct Entry: Codable, Sendable, Hashable {
    /// The key's public id (the part of the key after `psk_` and before `.`), to list and revoke it.
    public var id: String
    /// The partner whose requests the key makes.
    public var partner: String
    /// The hex SHA-256 hash of the whole key.
    public var hash: String
    /// When the key was added (RFC 3339).
    public var created: String
    /// Whether the key was revoked: a revoked key is refused like an unknown one.
    public var revoked: Bool
  }

  /// The file's path.
  public let path: String

  /// The key store of the log at `logPath`: the file `logPath.keys` (`logPath` is the server's
  /// state path, ``PartnerSyncServer/Configuration/statePath``, for a log that is not a file).
  public init(logPath: String) {
    path = logPath + ".keys"
  }

  /// The stored keys, in the order they were added; none when the file does not exist.
  /// - Throws: ``KeyStoreError`` when the file cannot be read or is not a key file.
  public func entries() throws(KeyStoreError) -> [Entry] {
    guard FileManager.default.fileExists(atPath: path) else { return [] }
    do {
      let data = try Data(contentsOf: URL(fileURLWithPath: path))
      return try JSONDecoder().decode([Entry].self, from: data)
    } catch {
      throw KeyStoreError("\(path) is not a readable key file (\(error.localizedDescription)); restore it or remove it")
    }
  }

  /// Adds a new random key for `partner` and returns it: the only time it is ever shown.
  /// - Throws: ``KeyStoreError`` when the partner name is empty or the file cannot be written.
  public func add(partner: String, now: Date = Date()) throws(KeyStoreError) -> String {
    guard !partner.isEmpty, partner.allSatisfy({ !$0.isWhitespace }) else {
      throw KeyStoreError("a partner name must be non-empty and without spaces, not '\(partner)'")
    }
    var all = try entries()
    var id: String
    repeat { id = Self.hex(Self.randomBytes(4)) } while all.contains { $0.id == id }
    let key = "psk_\(id).\(Self.hex(Self.randomBytes(32)))"
    let created = Timestamp(microseconds: Int64(now.timeIntervalSince1970 * 1_000_000)).rfc3339
    all.append(Entry(id: id, partner: partner, hash: Self.hash(key), created: created, revoked: false))
    try write(all)
    return key
  }

  /// Revokes the key with id `id` (or the key itself, given whole).
  /// - Throws: ``KeyStoreError`` when there is no such key.
  public func revoke(_ idOrKey: String) throws(KeyStoreError) -> Entry {
    var all = try entries()
    let id = Self.id(ofKey: idOrKey) ?? idOrKey
    guard let index = all.firstIndex(where: { $0.id == id }) else {
      throw KeyStoreError("there is no key \(idOrKey) in \(path); partnersync-server keys list shows the keys")
    }
    all[index].revoked = true
    try write(all)
    return all[index]
  }

  /// The partner of `key`, or nil when it is not a stored, unrevoked key.
  ///
  /// Every stored hash is compared, whole, whatever matches first: the time taken does not tell
  /// how much of a key is right, nor which key matched.
  public static func partner(of key: String, in entries: [Entry]) -> String? {
    let presented = Array(hash(key).utf8)
    var found: String?
    for entry in entries {
      if equalInConstantTime(Array(entry.hash.utf8), presented), !entry.revoked { found = entry.partner }
    }
    return found
  }

  /// Whether `a` and `b` are the same bytes, in a time that depends on their lengths only.
  static func equalInConstantTime(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    var difference: UInt8 = a.count == b.count ? 0 : 1
    for index in 0..<min(a.count, b.count) { difference |= a[index] ^ b[index] }
    return difference == 0
  }

  /// The hex SHA-256 hash of `key`.
  static func hash(_ key: String) -> String { hex(Array(SHA256.hash(data: Array(key.utf8)))) }

  /// The id part of a whole key, or nil when `text` is not shaped like one.
  static func id(ofKey text: String) -> String? {
    guard text.hasPrefix("psk_"), let dot = text.firstIndex(of: ".") else { return nil }
    return String(text[text.index(text.startIndex, offsetBy: 4)..<dot])
  }

  private func write(_ all: [Entry]) throws(KeyStoreError) {
    do {
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
      // Written whole to a new file that then replaces the old one: a reader never sees half.
      let temporary = path + ".tmp-\(ProcessInfo.processInfo.processIdentifier)"
      try encoder.encode(all).write(to: URL(fileURLWithPath: temporary))
      if rename(temporary, path) != 0 { throw CocoaError(.fileWriteUnknown) }
    } catch {
      throw KeyStoreError("cannot write \(path) (\(error.localizedDescription)); check the folder's permissions")
    }
  }

  private static func randomBytes(_ count: Int) -> [UInt8] {
    (0..<count).map { _ in UInt8.random(in: .min ... .max) }
  }

  /// `bytes` in lowercase hex, two digits a byte.
  static func hex(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var out: [UInt8] = []
    out.reserveCapacity(bytes.count * 2)
    for byte in bytes {
      out.append(digits[Int(byte >> 4)])
      out.append(digits[Int(byte & 0xF)])
    }
    return String(decoding: out, as: UTF8.self)
  }
}

/// A key file that cannot be read or written, or a key that does not exist.
public struct KeyStoreError: Error, Sendable, CustomStringConvertible {
  /// One sentence: what is wrong and what to do.
  public var message: String
  /// Creates an error.
  public init(_ message: String) { self.message = message }
  /// The message.
  public var description: String { message }
}

/// The keys a running server accepts: the key file, read again when it changes.
final class KeyCache: @unchecked Sendable {
  // Sendable: `lock` guards `stamp` and `entries`.
  /// What tells one version of the key file from another: its modification time, size and inode,
  /// read with one `stat` of its path per request (`FileManager.attributesOfItem` also looks up
  /// the owner's name and the extended attributes, several system calls more; an `fstat` of the
  /// file held open would miss a file replaced while another hard link keeps the old one, as
  /// backups made with hard links do).
  private struct Stamp: Equatable {
    var seconds: Int
    var nanoseconds: Int
    var size: Int64
    var inode: UInt64

    init?(path: String) {
      var info = stat()
      guard stat(path, &info) == 0 else { return nil }
      #if canImport(Darwin)
        let modified = info.st_mtimespec
      #else
        let modified = info.st_mtim
      #endif
      seconds = Int(modified.tv_sec)
      nanoseconds = Int(modified.tv_nsec)
      size = Int64(info.st_size)
      inode = UInt64(info.st_ino)
    }
  }
  let store: KeyStore
  private let lock = NSLock()
  private var stamp: Stamp??
  private var entries: [KeyStore.Entry] = []
  /// The valid keys presented since the file was read, and their partners, by the keys' ids (the
  /// part before the secret): an unknown or revoked key is never kept, and a presented key is
  /// compared with the kept one in constant time, as with the stored hashes.
  private var accepted: [String: Accepted] = [:]

  /// A valid key and its partner.
  private struct Accepted {
    let key: [UInt8]
    let partner: String
  }

  init(store: KeyStore) { self.store = store }

  /// The partner of `key`, or nil when the key is unknown or revoked.
  func partner(of key: String) throws(KeyStoreError) -> String? {
    let current = Stamp(path: store.path)
    let id = KeyStore.id(ofKey: key)
    // Locked by hand: `withLock` returning a tuple looked up the tuple's type metadata at every
    // request.
    lock.lock()
    let known = stamp == .some(current)
    let (stored, kept) = (entries, id.flatMap { accepted[$0] })
    lock.unlock()
    if known {
      if let kept, KeyStore.equalInConstantTime(kept.key, Array(key.utf8)) { return kept.partner }
      return remember(key, KeyStore.partner(of: key, in: stored), read: current)
    }
    let read = try store.entries()
    lock.withLock {
      stamp = .some(current)
      entries = read
      accepted = [:]
    }
    return remember(key, KeyStore.partner(of: key, in: read), read: current)
  }

  /// Keeps the partner of a valid key, unless the file changed meanwhile; returns it.
  private func remember(_ key: String, _ partner: String?, read: Stamp?) -> String? {
    guard let partner, let id = KeyStore.id(ofKey: key) else { return partner }
    lock.withLock {
      if stamp == .some(read), accepted.count < 4096 { accepted[id] = Accepted(key: Array(key.utf8), partner: partner) }
    }
    return partner
  }
}
