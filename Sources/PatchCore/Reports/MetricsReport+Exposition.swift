import Foundation
import Prometheus

extension MetricsReport {
    /// One metric family: `patchctl_NAME_UNIT`, its help and samples (label pairs and a value).
    struct Family {
        var descriptor: MetricNameDescriptor
        var samples: [(labels: [(String, String)], value: Double)] = []

        init(_ name: String, unit: String = "", help: String) {
            descriptor = MetricNameDescriptor(namespace: "patchctl", metricName: name, unitName: unit, helpText: help)
        }

        var name: String { descriptor.name }
    }

    /// Every family `exposition` writes, in this order; a family without samples is left out.
    var families: [Family] {
        let standardLabel = ("standard", standard)
        var pending = Family("pending_updates",
                             help: "Pending updates per host and severity (critical, high, medium, low, unrated, none), from the host's latest successful scan.")
        var security = Family("pending_security_updates",
                              help: "Pending security updates per host and severity (critical, high, medium, low, unrated), from the host's latest successful scan.")
        var lastScan = Family("last_scan_timestamp", unit: "seconds",
                              help: "When the host's latest scan attempt (a scan, or a deployment's own scan) finished, successful or not (unix seconds).")
        var lastSuccess = Family("last_successful_scan_timestamp", unit: "seconds",
                                 help: "When the host's latest successful scan finished (unix seconds).")
        var compliant = Family("host_compliant",
                               help: "1 when the host complies with the standard, else 0 (never scanned, stale, overdue updates).")
        for host in hosts {
            let name = ("host", host.name)
            for (bucket, count) in host.pending ?? [:] { pending.samples.append(([name, ("severity", bucket)], Double(count))) }
            for (bucket, count) in host.pendingSecurity ?? [:] { security.samples.append(([name, ("severity", bucket)], Double(count))) }
            if let at = host.lastScan { lastScan.samples.append(([name], Self.seconds(at))) }
            if let at = host.lastSuccessfulScan { lastSuccess.samples.append(([name], Self.seconds(at))) }
            compliant.samples.append(([name, standardLabel], host.compliant ? 1 : 0))
        }
        // A ratio, as Prometheus names shares (promlint: "use base unit ratio instead of percent").
        var ratio = Family("compliance", unit: "ratio",
                           help: "Share of the fleet's hosts that comply with the standard (0-1): `patchctl report compliance`'s percent_compliant / 100.")
        // From the report's one-decimal percent: 66.7 is 0.667, never 0.6670000000000001.
        if let percentCompliant { ratio.samples.append(([standardLabel], (percentCompliant * 10).rounded() / 1000)) }

        var info = Family("last_run_info", help: "The latest recorded run of each kind: its id (`patchctl history show RUN`).")
        var finished = Family("last_run_timestamp", unit: "seconds", help: "When the latest run of each kind finished (unix seconds).")
        var duration = Family("last_run_duration", unit: "seconds", help: "How long the latest run of each kind took.")
        var byStatus = Family("last_run_hosts", help: "Hosts of the latest run of each kind, by the status they ended in.")
        var failed = Family("last_run_failed_hosts",
                            help: "Hosts that failed in the latest run of each kind (unreachable, auth_failed, host_key_*, timeout, failed, error).")
        for run in runs {
            let kind = ("kind", run.kind.rawValue)
            info.samples.append(([kind, ("run_id", run.runId)], 1))
            finished.samples.append(([kind], Self.seconds(run.finishedAt)))
            duration.samples.append(([kind], Self.milliseconds(run.duration)))
            // Every status, zeros too: an alert on failures resolves when a later run has none.
            for status in HostStatus.allCases { byStatus.samples.append(([kind, ("status", status.rawValue)], Double(run.hosts[status] ?? 0))) }
            failed.samples.append(([kind], Double(run.failed)))
        }
        var generated = Family("metrics_generated_timestamp", unit: "seconds", help: "When patchctl wrote these metrics (unix seconds).")
        generated.samples.append(([], Self.seconds(generatedAt)))
        return [pending, security, lastScan, lastSuccess, compliant, ratio, info, finished, duration, byStatus, failed, generated]
    }

    /// Unix seconds to the millisecond, as history keeps times: the file a run writes and `patchctl
    /// metrics` read back afterwards agree, and no float noise (2.6980000734329224) is printed.
    static func seconds(_ date: Date) -> Double { milliseconds(date.timeIntervalSince1970) }
    static func milliseconds(_ seconds: Double) -> Double { (seconds * 1000).rounded() / 1000 }

    /// The Prometheus text exposition format (version 0.0.4), as node_exporter's textfile
    /// collector reads it. swift-prometheus writes each family (HELP, TYPE, escaping of label
    /// values and help text); one registry per family and sorted samples make the bytes depend
    /// on the report only (its registry emits in hash order).
    public func exposition() -> String {
        var text = ""
        for family in families where !family.samples.isEmpty {
            let registry = PrometheusCollectorRegistry()
            for sample in family.samples {
                registry.makeGauge(descriptor: family.descriptor, labels: sample.labels).set(to: sample.value)
            }
            // A label value's newline is escaped: each sample is one line.
            let lines = registry.emitToString().split(separator: "\n")
            let header = lines.prefix { $0.hasPrefix("#") }
            for line in header + lines.dropFirst(header.count).sorted() { text += line + "\n" }
        }
        return text
    }
}
