/// What the intake thread found for one file it claimed.
enum IntakeResult: Sendable {
    /// A decoded job, claimed into the claim area, with any saved retry state, its pass through
    /// the gate and the number of its `accepted` audit line (nil and 0 when the gate said no:
    /// the loop refuses it). `bytes` is what the byte budget holds for it until it leaves.
    case job(name: String, job: Job, inode: UInt64, bytes: Int, state: JobState?, pass: GatePass?, acceptedLine: Int)
    /// Not a valid job: to be filed in corrupt/ by the loop (which owns the audit log).
    case corrupt(name: String, reason: CorruptReason, message: String)
}
