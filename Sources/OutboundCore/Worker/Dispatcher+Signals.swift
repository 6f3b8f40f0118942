/// Signals: SIGTERM/SIGINT begin a stop, SIGHUP reloads the configuration and reopens the
/// audit log.
extension Dispatcher {
    func handleSignals(_ received: [ControlSignal]) {
        for signal in received {
            switch signal {
            case .stop:
                perform(core.stopRequested(now: clock.now()))
                intake.setCredit(0)
            case .reload: reload()
            }
        }
    }

    /// SIGHUP: load the config folder again (the old configuration stays if it is bad) and
    /// reopen the audit log, at its new path if `auditLog` changed.
    public func reload() {
        let loader = ConfigLoader(directory: configuration.directory, spoolDirectory: spool.root)
        do {
            let fresh = try loader.load()
            do {
                try audit.reopen(at: fresh.settings.auditLogPath)
            } catch {
                throw ConfigError(file: "\(configuration.directory)/\(ConfigLoader.settingsFileName)",
                                  "field 'auditLog': \(error)")
            }
            configuration = fresh
            decoder = JobDecoder(clientIdHeader: fresh.settings.clientIdHeader, idempotencyHeader: fresh.settings.idempotencyHeader)
            builder = RequestBuilder(settings: fresh.settings)
            core.reloaded(settings: fresh.settings, gate: fresh.gate, policy: RetryPolicy(settings: fresh.settings.retry, jitter: jitter))
            intake.update(decoder: decoder, maxJobBytes: fresh.settings.maxJobBytes, gate: fresh.gate,
                          gateGeneration: core.generation)
            var record = AuditRecord(.configReloaded, at: clock.now())
            record.message = "environment \(fresh.settings.environment.rawValue), \(fresh.registry.count) client records"
            record.count = fresh.registry.count
            audit.append(record)
        } catch {
            try? audit.reopen()
            var record = AuditRecord(.configRejected, at: clock.now())
            record.message = "\(error); the previous configuration stays in force"
            audit.append(record)
        }
    }
}
