import Foundation
import Glibc
import Testing

/// A plain HTTP/1.1 client over a loopback socket: one request per connection, every byte in
/// the test's hands (a stalled body, a dropped stream).
struct HTTPClient {
  struct Response {
    var status: Int
    var headers: [String: String]
    var body: [UInt8]

    var text: String { String(decoding: body, as: UTF8.self) }
    var contentType: String { headers["content-type"] ?? "" }

    /// The body as a JSON object.
    func object() throws -> [String: Any] {
      try #require(try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any], "not a JSON object: \(text)")
    }
  }

  struct Failure: Error, CustomStringConvertible {
    var description: String
  }

  let port: Int
  /// How long a read may wait before the test gives up.
  var timeout: TimeInterval = 20

  /// Sends one request and reads the whole answer.
  func send(
    _ method: String, _ path: String, key: String? = nil, headers: [String: String] = [:], body: [UInt8] = []
  ) throws -> Response {
    let connection = try Connection(port: port, timeout: timeout)
    defer { connection.close() }
    try connection.write(Self.head(method, path, key: key, headers: headers, length: body.count) + body)
    return try connection.readResponse()
  }

  static func head(
    _ method: String, _ path: String, key: String?, headers: [String: String], length: Int?
  ) -> [UInt8] {
    var lines = ["\(method) \(path) HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    if let key { lines.append("Authorization: Bearer \(key)") }
    if let length, length > 0 || method == "POST" { lines.append("Content-Length: \(length)") }
    for (name, value) in headers.sorted(by: { $0.key < $1.key }) { lines.append("\(name): \(value)") }
    return Array((lines.joined(separator: "\r\n") + "\r\n\r\n").utf8)
  }

  func connect() throws -> Connection { try Connection(port: port, timeout: timeout) }

  /// One TCP connection to the server.
  final class Connection {
    private var fd: Int32
    private var buffer: [UInt8] = []

    init(port: Int, timeout: TimeInterval) throws {
      fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
      guard fd >= 0 else { throw Failure(description: "socket() failed") }
      var time = timeval(tv_sec: Int(timeout), tv_usec: 0)
      setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
      var address = sockaddr_in()
      address.sin_family = sa_family_t(AF_INET)
      address.sin_port = in_port_t(UInt16(port).bigEndian)
      address.sin_addr.s_addr = inet_addr("127.0.0.1")
      let result = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
          Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
        }
      }
      guard result == 0 else {
        Glibc.close(fd)
        throw Failure(description: "cannot connect to 127.0.0.1:\(port)")
      }
    }

    func close() {
      if fd >= 0 { Glibc.close(fd) }
      fd = -1
    }

    /// The connection's own port.
    var localPort: Int {
      var address = sockaddr_in()
      var length = socklen_t(MemoryLayout<sockaddr_in>.size)
      _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
      }
      return Int(UInt16(bigEndian: address.sin_port))
    }

    deinit { close() }

    func write(_ bytes: [UInt8]) throws {
      var sent = 0
      while sent < bytes.count {
        let n = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        guard n > 0 else { throw Failure(description: "send failed (errno \(errno))") }
        sent += n
      }
    }

    /// Reads more bytes into the buffer; false at the end of the stream.
    private func fill() throws -> Bool {
      var chunk = [UInt8](repeating: 0, count: 65536)
      let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
      if n < 0 { throw Failure(description: "read failed or timed out (errno \(errno))") }
      if n == 0 { return false }
      buffer += chunk[..<n]
      return true
    }

    /// The bytes up to (and without) `delimiter`, or nil when the stream ends first.
    private func read(until delimiter: [UInt8]) throws -> [UInt8]? {
      while true {
        if let range = buffer.firstRange(of: delimiter) {
          let line = Array(buffer[..<range.lowerBound])
          buffer.removeSubrange(..<range.upperBound)
          return line
        }
        guard try fill() else { return nil }
      }
    }

    private func read(count: Int) throws -> [UInt8] {
      while buffer.count < count {
        guard try fill() else { throw Failure(description: "the stream ended inside a body") }
      }
      defer { buffer.removeSubrange(..<count) }
      return Array(buffer[..<count])
    }

    /// The status line and headers.
    func readHead() throws -> (status: Int, headers: [String: String]) {
      guard let head = try read(until: Array("\r\n\r\n".utf8)) else {
        throw Failure(description: "the connection closed before an answer")
      }
      let lines = String(decoding: head, as: UTF8.self).components(separatedBy: "\r\n")
      let parts = lines[0].split(separator: " ")
      guard parts.count >= 2, let status = Int(parts[1]) else {
        throw Failure(description: "not an HTTP status line: \(lines[0])")
      }
      var headers: [String: String] = [:]
      for line in lines.dropFirst() {
        guard let colon = line.firstIndex(of: ":") else { continue }
        headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
      }
      return (status, headers)
    }

    /// The next chunk of a chunked body; nil at its end.
    func readChunk() throws -> [UInt8]? {
      guard let sizeLine = try read(until: Array("\r\n".utf8)),
        let size = Int(String(decoding: sizeLine, as: UTF8.self).split(separator: ";")[0], radix: 16)
      else { throw Failure(description: "a malformed chunk") }
      let data = try read(count: size)
      _ = try read(until: Array("\r\n".utf8))
      return size == 0 ? nil : data
    }

    func readResponse() throws -> Response {
      let (status, headers) = try readHead()
      var body: [UInt8] = []
      if headers["transfer-encoding"]?.lowercased() == "chunked" {
        while let chunk = try readChunk() { body += chunk }
      } else if let length = headers["content-length"].flatMap(Int.init) {
        body = try read(count: length)
      } else {
        while try fill() {}
        body = buffer
        buffer = []
      }
      return Response(status: status, headers: headers, body: body)
    }
  }
}
