import Foundation

/// Why a `TestPKI` step failed: openssl missing, or an openssl command that did not succeed
/// (with its arguments and output).
public struct TestPKIError: Error, CustomStringConvertible {
    public let description: String
}

/// A throw-away PKI for TLS tests, made with the `openssl` command-line tool in a folder the
/// test owns: certificate authorities, server and client certificates signed by them,
/// including deliberately broken ones (expired, issued for another host).
///
/// Keys are EC P-256 (fast to generate). Every certificate is issued with `openssl ca`, which
/// also allows a validity period entirely in the past (`-startdate`/`-enddate`), something
/// `openssl x509 -req -days` cannot do. No openssl.cnf of the system is read.
public final class TestPKI {
    /// A certificate authority: its self-signed certificate, key and `openssl ca` database.
    public struct Authority {
        public let name: String
        public let folder: URL
        public let certificate: URL
        public let key: URL
        let config: URL
    }

    /// A certificate (PEM) and its private key (PEM, unencrypted).
    public struct Issued {
        public let certificate: URL
        public let key: URL
    }

    public enum Usage {
        /// extendedKeyUsage serverAuth
        case server
        /// extendedKeyUsage clientAuth
        case client
    }

    public let folder: URL
    private let openssl: URL

    /// Creates `folder` and checks that `openssl` is on PATH; throws a clear error if not
    /// (the TLS tests must fail, not silently skip, on a machine without it).
    public init(folder: URL) throws {
        guard let openssl = Self.findExecutable("openssl") else {
            let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
            throw TestPKIError(description: "the TLS tests need the openssl command-line tool to make their certificates, "
                + "and it is not on PATH (\(path)); install it (apt-get install openssl)")
        }
        self.openssl = openssl
        self.folder = folder
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    /// A new CA named `name` (its files in `folder/name/`), valid from now for a few days.
    public func makeAuthority(_ name: String, commonName: String) throws -> Authority {
        let caFolder = folder.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: caFolder.appendingPathComponent("newcerts"), withIntermediateDirectories: true)
        try Data().write(to: caFolder.appendingPathComponent("index.txt"))
        let config = caFolder.appendingPathComponent("openssl.cnf")
        let text = """
            [ req ]
            distinguished_name = req_dn
            prompt = no
            [ req_dn ]
            CN = unused
            [ v3_ca ]
            basicConstraints = critical, CA:TRUE
            keyUsage = critical, keyCertSign, cRLSign
            subjectKeyIdentifier = hash
            [ ca ]
            default_ca = test_ca
            [ test_ca ]
            database = \(caFolder.path)/index.txt
            new_certs_dir = \(caFolder.path)/newcerts
            serial = \(caFolder.path)/serial
            rand_serial = yes
            default_md = sha256
            policy = policy_any
            unique_subject = no
            email_in_dn = no
            copy_extensions = none
            [ policy_any ]
            commonName = supplied

            """
        try Data(text.utf8).write(to: config)
        let key = caFolder.appendingPathComponent("ca.key")
        let certificate = caFolder.appendingPathComponent("ca.pem")
        try run(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key.path])
        try run(["req", "-config", config.path, "-x509", "-new", "-key", key.path, "-subj", "/CN=\(commonName)",
                 "-days", "3", "-extensions", "v3_ca", "-out", certificate.path])
        return Authority(name: name, folder: caFolder, certificate: certificate, key: key, config: config)
    }

    /// A certificate `folder/name.pem` with key `folder/name.key`, signed by `authority`.
    /// `subjectAltNames` are openssl's notation (`IP:127.0.0.1`, `DNS:localhost`). With
    /// `expired`, the certificate was valid from 2020-01-01 to 2020-01-02 only.
    public func issue(_ name: String, by authority: Authority, commonName: String, subjectAltNames: [String] = [],
                      usage: Usage, expired: Bool = false) throws -> Issued {
        let key = folder.appendingPathComponent("\(name).key")
        let request = folder.appendingPathComponent("\(name).csr")
        let extensions = folder.appendingPathComponent("\(name).ext")
        let certificate = folder.appendingPathComponent("\(name).pem")
        var lines = [
            "basicConstraints = CA:FALSE",
            "keyUsage = critical, digitalSignature",
            "extendedKeyUsage = \(usage == .server ? "serverAuth" : "clientAuth")",
        ]
        if !subjectAltNames.isEmpty { lines.append("subjectAltName = \(subjectAltNames.joined(separator: ", "))") }
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: extensions)
        try run(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key.path])
        try run(["req", "-config", authority.config.path, "-new", "-key", key.path, "-subj", "/CN=\(commonName)", "-out", request.path])
        let validity = expired ? ["-startdate", "20200101000000Z", "-enddate", "20200102000000Z"] : ["-days", "2"]
        try run(["ca", "-batch", "-notext", "-config", authority.config.path, "-cert", authority.certificate.path,
                 "-keyfile", authority.key.path, "-in", request.path, "-out", certificate.path, "-extfile", extensions.path]
                + validity)
        return Issued(certificate: certificate, key: key)
    }

    /// `openssl verify` of `certificate` against `authority` (and, with `ip`, the address it
    /// must be valid for): whether it passed, and openssl's output. Lets a test show that
    /// a broken certificate is broken for exactly the intended reason.
    public func verify(_ certificate: URL, against authority: Authority, ip: String? = nil) throws -> (ok: Bool, output: String) {
        var arguments = ["verify", "-CAfile", authority.certificate.path]
        if let ip { arguments += ["-verify_ip", ip] }
        let (status, output) = try execute(arguments + [certificate.path])
        return (status == 0, output)
    }

    /// A folder laid out as OpenSSL's trusted-certificate folders are (`/etc/ssl/certs`):
    /// `authority`'s certificate under its subject hash (`HASH.0`) and alone in the bundle
    /// `ca-certificates.crt`.
    public func systemStyleFolder(_ name: String, trusting authority: Authority) throws -> URL {
        let trusted = folder.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: trusted, withIntermediateDirectories: true)
        let hash = try run(["x509", "-hash", "-noout", "-in", authority.certificate.path]).trimmingCharacters(in: .whitespacesAndNewlines)
        let pem = try Data(contentsOf: authority.certificate)
        try pem.write(to: trusted.appendingPathComponent("\(hash).0"))
        try pem.write(to: trusted.appendingPathComponent("ca-certificates.crt"))
        return trusted
    }

    @discardableResult
    private func run(_ arguments: [String]) throws -> String {
        let (status, output) = try execute(arguments)
        guard status == 0 else {
            throw TestPKIError(description: "openssl \(arguments.joined(separator: " ")) exited \(status): \(output)")
        }
        return output
    }

    private func execute(_ arguments: [String]) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = openssl
        process.arguments = arguments
        process.currentDirectoryURL = folder
        var environment = ProcessInfo.processInfo.environment
        environment["OPENSSL_CONF"] = nil
        process.environment = environment
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self))
    }

    /// The first executable called `name` on PATH.
    static func findExecutable(_ name: String) -> URL? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for directory in path.split(separator: ":") where !directory.isEmpty {
            let candidate = URL(fileURLWithPath: String(directory)).appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        return nil
    }
}
