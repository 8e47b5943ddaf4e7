/// Copies of `compliance/*.yml`, so `--standard pci-dss` works wherever the binary is installed.
/// A test checks they equal the files byte for byte.
extension ComplianceRuleSet {
    static let builtin: [String: String] = ["pci-dss": pciDSS, "hipaa": hipaa, "sox": sox]

    static let pciDSS = """
        # PCI DSS v4.0.1, requirement 6.3.3: critical security patches installed within one month of
        # release; every other applicable patch within the time frame the organisation's risk ranking
        # sets (6.3.1). Copy this file and edit the numbers to match your own policy, then run
        # `patchctl report compliance --standard ./my-pci.yml`.
        id: pci-dss
        name: PCI DSS v4.0.1
        description: >-
          Requirement 6.3.3 sets one deadline: critical security patches within one month of release.
          Other security patches follow the organisation's risk ranking (requirement 6.3.1); the
          90 days below are this rule set's default, not a PCI DSS number.
        # Hosts without a successful scan within this many days are non-compliant (no evidence).
        stale_days: 7
        rules:
          - name: critical security updates
            reference: PCI DSS 6.3.3
            updates: security
            min_severity: critical
            # "critical" also means exploited: an update fixing a CVE on CISA's Known Exploited
            # Vulnerabilities catalogue falls under this rule whatever its severity.
            kev: true
            within_days: 30
            defined_by: standard
            note: >-
              Critical severity or on CISA's KEV catalogue. apt (Debian, Ubuntu) reports no severity:
              with an advisory feed synced its CVEs' severities count; without one every apt security
              update is treated as critical and falls under this rule.
          - name: other security updates
            reference: PCI DSS 6.3.1 (risk ranking)
            updates: security
            within_days: 90
            defined_by: organisation

        """

    static let hipaa = """
        # HIPAA Security Rule (45 CFR Part 164, Subpart C). It requires risk management
        # (164.308(a)(1)(ii)(B)) and protection from malicious software (164.308(a)(5)(ii)(B)) but sets
        # no patch deadline: every number below is the organisation's own time frame. Copy this file
        # and edit it to match your written policy.
        id: hipaa
        name: HIPAA Security Rule
        description: >-
          The HIPAA Security Rule sets no numeric patch deadline. These time frames are
          organisation-defined defaults; the report shows them so an auditor can compare them with
          the written policy and see the evidence that it was followed.
        stale_days: 7
        rules:
          - name: important and critical security updates
            updates: security
            min_severity: important
            within_days: 30
            defined_by: organisation
            note: apt reports no severity, so every apt security update falls under this rule.
          - name: other security updates
            updates: security
            within_days: 60
            defined_by: organisation

        """

    static let sox = """
        # Sarbanes-Oxley section 404: internal control over financial reporting, audited through IT
        # general controls (change management, access, operations) of the systems involved. SOX sets
        # no patch deadline: every number below is the organisation's own time frame. Copy this file
        # and edit it to match your written policy.
        id: sox
        name: SOX IT general controls
        description: >-
          SOX sets no numeric patch deadline. These time frames are organisation-defined defaults;
          the report shows them, and the evidence of each host's scans and deployments, so an auditor
          can test the control.
        stale_days: 7
        rules:
          - name: security updates
            updates: security
            within_days: 30
            defined_by: organisation
          - name: other updates
            updates: all
            within_days: 90
            defined_by: organisation

        """
}
