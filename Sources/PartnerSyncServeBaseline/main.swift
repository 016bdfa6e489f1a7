// The baseline of Scripts/bench-serve: a plain Hummingbird route that answers every
// `GET /static` with the bytes of one file as `application/json`, nothing else (no key check, no
// log, no middleware). The benchmark gives it a partner's view as the server answered it, so that
// both answers are of the same size.
//
//   PartnerSyncServeBaseline --body FILE --port-file PATH
//
// It binds 127.0.0.1 on a free port, writes the port to PATH (whole, by renaming) and serves until
// SIGTERM or SIGINT.
import Foundation
import Hummingbird
import NIOCore

let arguments = Array(CommandLine.arguments.dropFirst())
guard arguments.count == 4, arguments[0] == "--body", arguments[2] == "--port-file" else {
  FileHandle.standardError.write(Data("usage: PartnerSyncServeBaseline --body FILE --port-file PATH\n".utf8))
  exit(64)
}
guard let body = FileManager.default.contents(atPath: arguments[1]) else {
  FileHandle.standardError.write(Data("error: cannot read \(arguments[1])\n".utf8))
  exit(66)
}
let portFile = arguments[3]
let bytes = ByteBuffer(bytes: body)
let router = Router()
router.get("static") { _, _ in
  Response(status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: bytes))
}
let application = Application(
  router: router,
  configuration: .init(address: .hostname("127.0.0.1", port: 0), serverName: "baseline"),
  onServerRunning: { channel in
    try? Data("\(channel.localAddress?.port ?? 0)\n".utf8).write(to: URL(fileURLWithPath: portFile), options: .atomic)
  })
try await application.runService()
