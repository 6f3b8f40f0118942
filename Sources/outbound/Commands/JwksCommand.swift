import OutboundCore

/// `outbound jwks`: the public JWK Set of every configured assertion key (contract 12), to
/// publish at the JWK Set URL a partner registers for the client. Only public numbers are
/// printed; the private keys never leave the config folder.
enum JwksCommand: CommandDefinition {
    static let summary = "print the public JWK Set of the configured OAuth assertion keys"
    static let options: [OptionSpec] = []
    static let takesOperands = false

    static let help = """
    Usage: outbound jwks [--config DIR]

    Prints one JSON object, {"keys":[...]}, with the public half of every private key named
    by a client record's auth.assertion.keyFile: kid, kty, alg, use "sig" and the RSA (n, e)
    or EC (crv, x, y) numbers. Publish it at the JWK Set URL the partner registered for the
    client, so the partner's token endpoint can check the assertions Outbound signs. Records
    that use a client secret have no key and are not listed. Writes nothing to the spool.

    Options:
    \(HelpText.common)

    Exit status: 0, 78 bad config.
    """

    static func execute(_ invocation: Invocation, context: CommandContext) throws(CommandFailure) -> ExitCode {
        let configuration = try invocation.loadConfiguration()
        let keys = configuration.registry.all.compactMap { record -> AssertionKey? in
            if case .assertion(let key)? = record.auth?.credential { return key }
            return nil
        }
        print(String(decoding: JWKSet.document(for: keys), as: UTF8.self))
        return .ok
    }
}
