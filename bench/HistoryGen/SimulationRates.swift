/// The knobs of the fleet's life, per distribution and day or per host and night. Tuned so that
/// the recorded scans match the measured shape: 5–60 pending findings per host (mean about
/// 21, p99 about 90), about 70% of them security, 1–3% of hosts failing a night.
struct SimulationRates: Sendable {
    /// Vendor side, per distribution and day (Poisson means).
    var securityAdvisoriesPerDay = 0.68
    var bugfixAdvisoriesPerDay = 0.06
    /// Debian point releases, Ubuntu SRU batches, RHEL batch updates: many sources at once.
    var pointReleaseEveryDays = 61
    var pointReleaseSources = 8
    /// Open (unfixed) CVEs the Debian-family feeds list, per distribution.
    var openCVEsPerDistribution = 160

    /// Host side. Each host is in one of four rings; every Tuesday one ring is patched (so each host
    /// every four weeks): most security updates, some of the rest.
    var ringCount = 4
    var waveAttendance = 0.93
    var waveSecurityFix = 0.95
    var waveBugfixFix = 0.7
    /// Neglected hosts: waves rarely take, nobody upgrades them by hand.
    var neglectedShare = 0.09
    var neglectedWaveSecurityFix = 0.2
    var neglectedWaveBugfixFix = 0.08
    /// unattended-upgrades (Debian family): security updates installed the night they appear.
    var unattendedShare = 0.10
    var unattendedFix = 0.85
    /// Someone runs a full upgrade by hand, per host and night.
    var manualUpgrade = 0.006
    /// Any single pending update installed for its own sake, per night.
    var trickleFix = 0.004

    /// Failures, per host and night: a one-off (unreachable, timeout), or a host down for days.
    var oneOffFailure = 0.011
    var outageStart = 0.0012
    var outageNights = 2...9

    /// Share of Debian-family hosts whose scans list unfixed CVEs (feeds matched), and the share of
    /// the open CVEs on their installed sources each one lists.
    var unfixedHostShare = 0.25
    var unfixedCVEShare = 0.2
}
