/// The version printed by `partnersync --version`.
enum PartnerSyncVersion {
  static let current = "0.1.0"
}
