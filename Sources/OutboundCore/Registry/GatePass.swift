/// A job's pass through the gate, remembered with the configuration it was checked under.
///
/// The gate is pure: the same job and the same configuration always give the same decision.
/// So while the configuration that let a job through is still in force (no reload since), its
/// pass stands for the checks the contract asks for again (on the loop's admission, before
/// every attempt); after a reload the job is checked again against the new registry.
struct GatePass: Sendable {
    /// The dispatcher's count of configurations loaded, when the job was checked.
    let generation: Int
    /// The client record the gate found for the job.
    let client: ClientRecord
}
